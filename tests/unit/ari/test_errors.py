from __future__ import annotations

import pytest

from routing.ari.client import _joined_args, _media, _message
from routing.ari.errors import AriError
from routing.calllog.events import LogId


@pytest.mark.parametrize(
    ("status", "message", "gone"),
    [
        (404, "Channel not found", True),
        (404, "Provided channel was not found", True),
        (400, "Channel not found", True),  # bridges/addChannel with a hung-up channel (measured)
        (400, "Invalid reason for hangup provided", False),
        (409, "Channel not in a Stasis application", False),
        (412, "Channel in invalid state", False),
        (500, "Internal Server Error", False),
        (None, "no answer within 5 s", False),
    ],
)
def test_gone_is_a_missing_object_only(status: int | None, message: str, gone: bool) -> None:
    error = AriError("POST", "/channels/1.2/answer", status, message)
    assert error.gone is gone
    assert error.unanswered is (status is None)
    assert error.status == status and error.message == message


def test_the_error_names_the_request_and_asterisks_words() -> None:
    assert (
        str(AriError("DELETE", "/channels/1.2", 404, "Channel not found"))
        == "DELETE /channels/1.2: 404 Channel not found"
    )
    assert str(AriError("GET", "/asterisk/info", None, "refused")) == "GET /asterisk/info: refused"
    assert AriError.log_id == LogId.ARI_REQUEST_FAILED.value == "ari.request_failed"


def test_asterisks_message_is_read_from_its_json_body() -> None:
    assert _message('{"message":"Channel not found"}') == "Channel not found"
    assert _message("  Unauthorized  ") == "Unauthorized"
    assert _message('{"error": 1}') == '{"error": 1}'
    assert len(_message("x" * 1000)) == 200


def test_stasis_args_with_a_comma_are_refused() -> None:
    assert _joined_args(["queue", "5000"]) == "queue,5000"
    with pytest.raises(ValueError):
        _joined_args(["a,b"])


def test_media_is_one_or_several() -> None:
    assert _media("sound:beep") == "sound:beep"
    assert _media(["sound:beep", "http://127.0.0.1:4574/p/x.wav"]) == "sound:beep,http://127.0.0.1:4574/p/x.wav"
    with pytest.raises(ValueError):
        _media([])
