"""A real SMSC for the tests: smpp34's SMPP 3.4 server (Rust, not our code) on a local port, in a
thread with its own event loop. It accepts every bind and every submit_sm, or refuses them while
``refuse`` is set, and keeps what it received."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from dataclasses import dataclass


@dataclass
class Submitted:
    destination: str
    dest_ton: int
    dest_npi: int
    source: str
    data_coding: int
    text: bytes


class Smsc:
    def __init__(self) -> None:
        import smpp34

        self.smpp34 = smpp34
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.received: list[Submitted] = []
        self.refuse = False
        #: The state of the delivery receipt each accepted message gets (None: no receipt).
        self.receipt_state: str | None = "DELIVRD"
        self.pending_receipts: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.ready.wait(10), "the SMSC did not start"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.task = self.loop.create_task(self._serve())
        with contextlib.suppress(asyncio.CancelledError):
            self.loop.run_until_complete(self.task)

    async def _serve(self) -> None:
        smpp34 = self.smpp34
        self.server = smpp34.Server(host="127.0.0.1", port=self.port, system_id="TESTSMSC")
        await self.server.start()
        self.ready.set()
        while True:
            try:
                event = await self.server.next()
            except Exception:
                return
            if isinstance(event, smpp34.Esme) and event.can_receive:
                # Like an SMSC, it keeps receipts for the system id until a receiver binds.
                receipts, self.pending_receipts = self.pending_receipts, []
                self.loop.create_task(self._push(event, receipts))
            elif isinstance(event, smpp34.SubmitSmEvent):
                if self.refuse:
                    event.reject(smpp34.ESME_RSYSERR)
                    continue
                with self.lock:
                    self.received.append(
                        Submitted(
                            event.destination_addr,
                            event.dest_addr_ton,
                            event.dest_addr_npi,
                            event.source_addr,
                            event.data_coding,
                            event.short_message,
                        )
                    )
                    number = len(self.received)
                event.accept(message_id=f"smsc-{number}")
                if self.receipt_state and event.registered_delivery & 1:
                    self.pending_receipts.append((f"smsc-{number}", event.destination_addr, self.receipt_state))

    async def _push(self, esme, receipts: list[tuple[str, str, str]]) -> None:
        for message_id, destination, state in receipts:
            text = f"id:{message_id} sub:001 dlvrd:001 submit date:2611291200 done date:2611291201 stat:{state} err:000 text:"
            # smpp34 takes smpplib's deliver_sm_resp for a failure (generic_nack); the receipt is
            # delivered all the same, which is what the tests look at.
            with contextlib.suppress(self.smpp34.SmppError):
                await esme.deliver_sm(
                    destination_addr="Videotermin", source_addr=destination, esm_class=0x04, short_message=text.encode()
                )

    def wait(self, count: int, timeout: float = 10.0) -> list[Submitted]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"{count} SMS expected, {len(self.received)} arrived")

    def stop(self) -> None:
        async def stop() -> None:
            await self.server.stop()
            self.task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.thread.join(10)
        self.loop.close()
