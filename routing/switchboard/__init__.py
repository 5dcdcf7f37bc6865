"""The switchboard (växeln, #13): its operators' accounts, and (to come) its queue, transfers
with recall and the operators' console over ARI."""
