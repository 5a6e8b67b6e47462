from datetime import timedelta

import pytest
from django.utils import timezone

from sprechzimmer.accounts.models import Device, Invitation, token_digest
from tests import factories


@pytest.fixture
def team(db):
    """An owner (main user) with a colleague, an open invitation and a pending device; and an
    outsider who is main user of another practice (healthchecks' owner/member/outsider pattern)."""
    practice = factories.practice("Praxis Eins")
    owner = factories.member(practice, main=True)
    colleague = factories.member(practice, role="staff")
    waiting = factories.member(practice, role="staff", with_key=False)
    invitation = Invitation.objects.create(
        organisation=practice,
        email="neu@example.org",
        full_name="Neu",
        role="staff",
        token_hash=token_digest("token-eins"),
        invited_by=owner,
        expires_at=timezone.now() + timedelta(days=7),
    )
    device = Device.objects.create(
        user=colleague, token_hash=token_digest("geraet"), name="Chrome unter Linux", status=Device.Status.PENDING
    )
    other = factories.practice("Praxis Zwei")
    outsider = factories.member(other, main=True)
    return type(
        "Team",
        (),
        dict(
            practice=practice,
            owner=owner,
            colleague=colleague,
            waiting=waiting,
            invitation=invitation,
            device=device,
            other=other,
            outsider=outsider,
        ),
    )
