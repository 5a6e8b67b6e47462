"""The demo practice and demo KV (README "Demo logins"), and making practices with real keys outside a
browser (the browser's key scheme written once more in Python) for demo data and test fixtures.
Nothing of the product imports this app; it imports the others."""
