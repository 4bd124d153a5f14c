"""Demo data for `manage.py load_demo` (and so for `make run`); never used by the site itself.

auctions: live auctions with bids; delivery: the shops' delivery fees and cash on delivery;
payouts: the demo sellers onboarded on the local Stripe emulator; orders (`load_demo --orders`):
orders at every step, feedback, messages, a complaint.
"""
