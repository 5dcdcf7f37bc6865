"""Everything about the call log: logging setup (one JSON object a line), masking of caller
numbers (R12), the recorder that keeps call events in the store, and the readable line."""
