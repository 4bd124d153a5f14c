"""Write flows: each is one keyword-only function, one transaction, row locks first."""
