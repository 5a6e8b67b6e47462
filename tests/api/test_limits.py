"""The API's limits cannot be turned against others: a client's budget is its own, and unknown
tokens block only the address that sends them (docs/api.md)."""

from __future__ import annotations

from sprechzimmer.api import endpoints
from sprechzimmer.api.models import ApiClient
from tests import factories


def test_a_clients_budget_is_its_own_and_bad_tokens_block_only_their_address(client, db, monkeypatch):
    practice = factories.practice()
    owner = factories.member(practice, main=True)
    _, busy = ApiClient.create(practice, "busy", ["waiting_room"], owner)
    _, calm = ApiClient.create(practice, "calm", ["waiting_room"], owner)
    # Small budgets over an hour, so that no window boundary falls inside the test.
    monkeypatch.setattr(endpoints, "PER_CLIENT", (3, 3600))
    monkeypatch.setattr(endpoints, "BAD_TOKENS_PER_ADDRESS", (5, 3600))

    def get(token, address="192.0.2.1"):
        return client.get("/api/v1/waiting-room", HTTP_AUTHORIZATION=f"Bearer {token}", REMOTE_ADDR=address)

    assert [get(busy).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert get(calm).status_code == 200  # another client of the same practice is not affected
    for _ in range(endpoints.BAD_TOKENS_PER_ADDRESS[0]):
        assert get("sz_guess", "198.51.100.7").status_code == 401
    assert get(calm, "198.51.100.7").status_code == 429  # the guessing address waits
    assert get(calm, "192.0.2.1").status_code == 200  # everyone else does not
