"""The policy engine: pure decisions, no I/O. Every rule of the telephone policy lives here.

Import from the modules themselves. The policy reads the config's types (routing.config);
the config never imports the policy, and nothing here imports an adapter.

Where each rule is decided:
- R1 ring limit ............................. ring_limit.py (every Ring step's timeout, rings heard),
                                              violations.py (a ring past the limit)
- R2/R3 answers and the fallback chain ...... fallback.py, flow.py (outcomes, last resort, how a
                                              call's end is named), violations.py (no answer),
                                              answer_measures.py (answered within the limit)
- R4 callback offer and follow-up ........... fallback.py, call.py (hidden callers get voicemail),
                                              followup.py (overdue callbacks)
- R6–R9 working and telephone hours ......... hours.py, planner.py (announcements, duty phone)
- R11/R15 referral, mobile number told ...... referral.py, feature_codes.py, planner.py,
                                              spoken_swedish.py (what the caller hears),
                                              calendar_referral.py (from people's calendars)
- R14 forwarding to mobile needs approval ... mobile.py
- R17/R18 private and premium-rate calls .... outbound.py
Checked when the config loads rather than decided per call: R3 every chain can answer, R8 a
duty phone, R10 a telephone officer, R14 an approval (routing.config.crosschecks). R12 is
carried out by the adapters (routing.calllog.masking, the store's hashing).
"""
