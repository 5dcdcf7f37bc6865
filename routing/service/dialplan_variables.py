"""Every channel variable and AGI script the service and dialplan/extensions_routing.conf share.

The dialplan asks `AGI(${ROUTING_AGI}/<script>,<secret>,<event>,<detail>,<linkedid>,<internal>,<callerpres>,<place>)`
and acts on the variables the service sets. The secret (AstDB routing/agi/token) is checked and
taken off by the FastAGI server: the ARG_* indices below count after it. Change a name here
and in the dialplan together.
"""

from __future__ import annotations

from typing import Final

# AGI scripts (the path after agi://host:port/)
SCRIPT_STEP: Final = "step"  # what next? (at the start and after each step)
# a ringing device answered: kept for a dialplan installed before USER_EVENT_ANSWERED
SCRIPT_ANSWERED: Final = "answered"
SCRIPT_HANGUP: Final = "hangup"  # the caller's channel hung up (hangup handler)
SCRIPT_FEATURE: Final = "feature"  # a feature code from an internal phone: (code, extension)
SCRIPT_OUTBOUND: Final = "outbound"  # an internal phone dials out: (number, extension, linkedid)
# A refusal or a confirmation Asterisk could not play: (what, extension, prompt, status, linkedid)
SCRIPT_NOT_PLAYED: Final = "not_played"
SCRIPT_PROBE: Final = "probe"  # routing doctor's probe call (routing-doctor): play this prompt

# AMI UserEvent from Dial's U() on the answering channel (routing-answered): a device answered.
# The event's own Channel and Linkedid are the answering channel's (Linkedid = the call's id);
# ANSWERED_CALLER is the caller's UNIQUEID, the service's key for the call. An event, not a
# FastAGI connection: an answered call costs Asterisk one connection less (#12 item 9).
USER_EVENT_ANSWERED: Final = "RoutingAnswered"
ANSWERED_CALLER: Final = "Caller"

# Set by the dialplan before it asks (AGI arguments, in this order)
ARG_EVENT: Final = 0  # start | dial | play | voicemail | read | queue
# DIALSTATUS/RING_AT/ANSWERED_AT (epoch s)/DIALEDPEERNAME, PLAYBACKSTATUS, VMSTATUS, READSTATUS/digit,
# the queue's TIMEOUT | FAILED
ARG_DETAIL: Final = 1
ARG_LINKEDID: Final = 2
ARG_INTERNAL: Final = 3  # 1 for routing-internal
ARG_CALLERPRES: Final = 4  # CALLERID(num-pres): prohib… means a hidden number
ARG_PLACE: Final = 5  # PLACE as the service last set it: where the call stands in its plan (#17)

# Set by the service for the dialplan
ACTION: Final = "ROUTING_ACTION"  # ring | play | voicemail | offer | finish | failsafe
DIAL: Final = "ROUTING_DIAL"  # devices joined by &
TIMEOUT: Final = "ROUTING_TIMEOUT"  # seconds: ring limit (R1) or the offer's wait for a key
PROGRESS_TIMEOUT: Final = "ROUTING_PROGRESS_TIMEOUT"  # seconds a device may take to start ringing
PROMPT: Final = "ROUTING_PROMPT"  # sound file path without extension
MAILBOX: Final = "ROUTING_MAILBOX"
STEP: Final = "ROUTING_STEP"  # the step's kind, for the dialplan's own log lines
# Where the call stands in its plan (policy.flow.Flow.place), sent back with every request: an
# instance that did not route the call so far goes on with it from there (#17).
PLACE: Final = "ROUTING_PLACE"
TARGET: Final = "ROUTING_TARGET"
MOBILE_DIAL: Final = "__ROUTING_MOBILE_DIAL"  # R14: the approved mobile, dialled by routing-mobile
GUARD_PROMPT: Final = "__ROUTING_GUARD_PROMPT"  # R14: "press 1 to take the call", on the mobile
RING_GROUP: Final = "__ROUTING_GROUP_"  # + 1, 2 …: a big unit's phones, one group each (routing-ring-group)
RANG: Final = "ROUTING_RANG"  # 1: the fail-safe rings no phone (rang already, or the person is away: R11)
USERFIELD: Final = "ROUTING_USERFIELD"  # CDR(userfield) for an outbound call: "private" (R17)

# The switchboard (#13; routing-switchboard in the dialplan). The service sets these over ARI
# (on a channel in Stasis) or AMI Setvar (on a caller talking to an operator).
NUMBER: Final = "ROUTING_NUMBER"  # the number the caller dialled: routing-flow's extension
LEASE: Final = "ROUTING_LEASE"  # seconds of TIMEOUT(absolute) the service renews while it holds a caller
FS_NUMBER: Final = "ROUTING_FS_NUMBER"  # whose fail-safe entries the fail-safe uses: the switchboard's
QUEUE_RESULT: Final = "ROUTING_QUEUE_RESULT"  # TIMEOUT: the queue's timeout ran out (R1); empty: FAILED
SB_DIAL: Final = "ROUTING_SB_DIAL"  # what an operator's answer or a transfer rings
SB_TIMEOUT: Final = "ROUTING_SB_TIMEOUT"  # for at most this many seconds (R1)
SB_STATUS: Final = "ROUTING_SB_STATUS"  # why a call comes back (DIALSTATUS, or BUSY/CHANUNAVAIL passed over)
SB_OPERATOR: Final = "ROUTING_OPERATOR"  # the operator who has the caller (hold)
SB_CONTEXT: Final = "routing-switchboard"
SB_ANSWER: Final = "answer"  # ring the operator in SB_DIAL; answered: talking; else back in the queue
SB_TRANSFER: Final = "transfer"  # ring the target in SB_DIAL; answered: put through; else back (återfall)
SB_BACK: Final = "back"  # back in the queue, marked SB_STATUS
SB_HOLD: Final = "hold"  # on hold (Stasis, music), recalled by the service
SB_VOICEMAIL: Final = "voicemail"  # the mailbox in MAILBOX, chosen by the operator
QUEUE: Final = "queue"  # action: wait in the switchboard's queue

# Actions
RING: Final = "ring"
# QUEUE (above): the switchboard's queue
PLAY: Final = "play"
VOICEMAIL: Final = "voicemail"
OFFER: Final = "offer"
FINISH: Final = "finish"
DIAL_OUT: Final = "dial"  # outbound: dial ROUTING_DIAL
REFUSE: Final = "refuse"  # outbound: play ROUTING_PROMPT, do not dial (R18)
FAILSAFE: Final = "failsafe"  # the service cannot serve this call: the dialplan finishes it alone
