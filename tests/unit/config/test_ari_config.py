"""asterisk.ari.app: the Stasis application the switchboard's client registers (#13)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from routing.config.schema import AriConfig


def test_the_app_is_routing_unless_named() -> None:
    assert AriConfig(password_env="ROUTING_ARI_PASSWORD").app == "routing"
    assert AriConfig(password_env="ROUTING_ARI_PASSWORD", app="vaxeln").app == "vaxeln"


@pytest.mark.parametrize("app", ["", "Routing", "two words", "a,b", "x" * 33])
def test_an_app_name_that_would_not_survive_a_url_or_stasis_args_is_refused(app: str) -> None:
    with pytest.raises(ValidationError, match="app"):
        AriConfig(password_env="ROUTING_ARI_PASSWORD", app=app)
