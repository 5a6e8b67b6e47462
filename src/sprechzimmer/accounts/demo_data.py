"""The demo practice's published logins (README). No Django import: tests read these too."""

DEMO_BSNR = "521234500"
DEMO_PASSWORD = "Demo-Praxis-2026"
DEMO_USERS = [
    # email, name, role, LANR, TOTP secret (base32; published in the README, demo only)
    ("arzt@demo.sprechzimmer.test", "Dr. med. Anna Demo", "doctor", "838382202", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"),
    ("mfa@demo.sprechzimmer.test", "Max Muster (MFA)", "staff", "", "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"),
]
