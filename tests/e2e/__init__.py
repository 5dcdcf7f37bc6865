"""End-to-end tests against the sandbox Asterisk.

The harness's helpers assert like the tests do (e.g. `finish`): pytest rewrites their asserts
too, so a failure shows the values compared. It must be registered before the harness is
imported, hence here."""

import pytest

pytest.register_assert_rewrite("tests.e2e.harness")
