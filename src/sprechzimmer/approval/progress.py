"""Whether a practice has done what its KV wants (the start page's setup checklist)."""

from __future__ import annotations

from sprechzimmer.accounts.domain import kv_code_of_bsnr
from sprechzimmer.approval.directory import DOCUMENT_TITLES, Procedure
from sprechzimmer.approval.models import ApprovalDocument, KvProcedure


def kv_of(practice) -> KvProcedure | None:
    """The practice's KV, found from the KV-Bezirk in its BSNR: the operator's directory first (its
    "KV-Bezirke"), else the KBV's key table as shipped (accounts/domain.py)."""
    district = (practice.bsnr or "")[:2]
    for kv in KvProcedure.objects.exclude(districts=""):
        if district in kv.district_codes:
            return kv
    code = kv_code_of_bsnr(practice.bsnr)
    return KvProcedure.objects.filter(code=code).first() if code else None


def kv_done(practice) -> bool:
    """Every document the practice's KV wants is sent (a KV that only informs: downloaded)."""
    kv = kv_of(practice)
    kinds = kv.document_kinds if kv else list(DOCUMENT_TITLES)
    informs_only = kv is not None and kv.procedure == Procedure.INFORMATION
    done = ApprovalDocument.objects.filter(organisation=practice, kind__in=kinds)
    done = done.filter(prepared_at__isnull=False) if informs_only else done.filter(sent_on__isnull=False)
    return done.count() == len(kinds)
