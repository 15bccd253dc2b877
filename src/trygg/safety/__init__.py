"""Safety: what a text signal does once a message is sent (issue 14).

The lower half (``models``, ``alerts``, ``texts``, ``events``) sits below messaging: the send and
edit actions record a message's signals and raise alerts in their own transaction. The upper half
(``queries``, ``actions``, ``api``, ``views``, ``jobs``) sits above cases: staff list and
acknowledge their alerts and turn one into a case, a receiver shows a threat to an adult, and a
weekly job notices groups that leave a few classmates out (R-SOC-01). No part keeps message text.
"""
