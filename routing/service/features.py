"""Feature codes dialled from the municipality's phones: set and clear one's referral (R11).

The dialplan's routing-features context hands every *… or #… code to this handler with the
caller's extension; the answer is a confirmation or a refusal to play. A malformed code
changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

import structlog

from routing.agi.protocol import AgiRequest
from routing.calllog.events import FeatureRefused, ReferralCleared, ReferralSet, emit
from routing.policy import spoken_swedish
from routing.policy.directory import Directory
from routing.policy.feature_codes import ClearReferral, FeatureCodeError, SetReferral, parse_feature_code
from routing.service import dialplan_variables as v
from routing.service.prompts import Prompts
from routing.service.referrals import ReferralStore
from routing.store.base import StoreError

log = structlog.get_logger("routing.features")


class FeatureCodes:
    def __init__(
        self,
        directory: Callable[[], Directory],
        referrals: ReferralStore,
        prompts: Prompts,
        clock: Callable[[], datetime],
    ) -> None:
        self._directory = directory
        self._referrals = referrals
        self._prompts = prompts
        self._clock = clock
        # on_referral(person, reason or None when cleared, by): the switchboard's live stream.
        self.on_referral: Callable[[str, str | None, str], None] | None = None

    async def __call__(self, request: AgiRequest) -> Mapping[str, str]:
        dialled = request.args[0] if request.args else ""
        extension = request.args[1] if len(request.args) > 1 else ""
        text, ok = self._apply(dialled, extension)
        prompt = await self._prompts.path_for(None, text)
        return {v.PROMPT: prompt, v.STEP: "feature" if ok else "feature_refused", v.ACTION: v.PLAY}

    def _apply(self, dialled: str, extension: str) -> tuple[str, bool]:
        directory = self._directory()
        person = directory.by_extension.get(extension)
        if person is None:
            emit(log, FeatureRefused(code=dialled, extension=extension, error="unknown extension"))
            return spoken_swedish.FEATURE_UNKNOWN_PHONE, False
        now = directory.calendar.local(self._clock())
        features = directory.config.features
        try:
            action = parse_feature_code(
                dialled,
                person=person.id,
                now=now,
                set_code=features.referral_set,
                clear_code=features.referral_clear,
            )
        except FeatureCodeError as exc:
            emit(log, FeatureRefused(code=dialled, person=person.id, error=str(exc)))
            return spoken_swedish.FEATURE_REFUSED, False
        try:
            if isinstance(action, ClearReferral):
                self._referrals.clear_referral(person.id)
                emit(log, ReferralCleared(person=person.id, by=f"phone:{extension}"))
                self._tell(person.id, None, f"phone:{extension}")
                return spoken_swedish.REFERRAL_CLEARED, True
            assert isinstance(action, SetReferral)
            self._referrals.set_referral(action.referral, at=now, by=f"phone:{extension}")
        except StoreError as exc:
            log.error(exc.log_id, error=str(exc), person=person.id)
            return spoken_swedish.REFERRAL_NOT_SAVED, False
        referral = action.referral
        until = referral.until.isoformat() if referral.until is not None else None
        emit(log, ReferralSet(person=person.id, reason=referral.reason.value, until=until, by=f"phone:{extension}"))
        self._tell(person.id, referral.reason.value, f"phone:{extension}")
        return spoken_swedish.referral_registered(
            spoken_swedish.referral_message(person.name, referral, None, now)
        ), True

    def _tell(self, person: str, reason: str | None, by: str) -> None:
        if self.on_referral is not None:
            self.on_referral(person, reason, by)
