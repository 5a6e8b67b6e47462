"""The demo practice's published logins (README). No Django import: tests read these too."""

DEMO_BSNR = "521234500"
DEMO_PASSWORD = "Demo-Praxis-2026"
DEMO_USERS = [
    # email, name, role, LANR, TOTP secret (base32; published in the README, demo only)
    ("arzt@demo.sprechzimmer.test", "Dr. med. Anna Demo", "doctor", "838382202", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"),
    ("mfa@demo.sprechzimmer.test", "Max Muster (MFA)", "staff", "", "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"),
]

# Emergency duty (Bereitschaftsdienst) of the demo KV: same password.
DEMO_KV_CODE = "52"
DEMO_KV_STAFF = ("kv@demo.sprechzimmer.test", "Petra Plan (KV)", "2QLBH4WUMZQIJOTJ47RUPC2D6PSDYAJW")
DEMO_K_ARZT = ("k-arzt@demo.sprechzimmer.test", "Dr. med. Karl Koop", "400009301", "MP6MA2OIYNMBDCSHF5V67O3MXWXRSGZQ")
DEMO_SUBSTITUTE = (
    "vertretung@demo.sprechzimmer.test",
    "Dr. med. Vera Vertretung",
    "400010001",
    "TUCRP5GSFSSBPNVC55AOIM4B5UXJONHG",
)
# Further obliged doctors of the demo area (they log in like anyone, but have no known second factor).
DEMO_OBLIGED = [
    ("berg@demo.sprechzimmer.test", "Dr. med. Ben Berg", "400001501", "1.00"),
    ("lang@demo.sprechzimmer.test", "Dr. med. Lea Lang", "400002601", "1.00"),
    ("nord@demo.sprechzimmer.test", "Dr. med. Nils Nord", "400003701", "0.75"),
    ("ost@demo.sprechzimmer.test", "Dr. med. Olga Ost", "400004801", "0.50"),
    ("sued@demo.sprechzimmer.test", "Dr. med. Sven Süd", "400005901", "1.00"),
    ("west@demo.sprechzimmer.test", "Dr. med. Wanda West", "400006001", "1.00"),
    ("zeit@demo.sprechzimmer.test", "Dr. med. Zeno Zeit", "400007101", "0.75"),
]
DEMO_AREA = "Stuttgart-Mitte"
