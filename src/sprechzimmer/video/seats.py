"""Who is in a room: one patient seat and one doctor seat per appointment, kept in the database so
that the limit of two participants holds across server processes (A2, A3)."""

from __future__ import annotations

import functools
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import DateTimeField
from django.utils import timezone

from sprechzimmer.video.models import Appointment

# A seat whose holder has not sent a heartbeat for this long counts as free (a crashed tab).
STALE_AFTER = timedelta(seconds=45)


def _fresh(seen_at, now) -> bool:
    return seen_at is not None and now - seen_at < STALE_AFTER


def seat_patient(appointment: Appointment, seat: str, channel: str) -> tuple[bool, str]:
    """Seats the patient on an appointment read under its row lock (``select_for_update`` in the
    caller's transaction), without saving: the caller writes the seat's fields with its own. The
    same seat (a reload) takes over; another device is refused while the seat is held. Returns (ok,
    channel to close because it was taken over)."""
    now = timezone.now()
    previous = appointment.patient_channel
    if previous and appointment.patient_seat != seat and _fresh(appointment.patient_seen_at, now):
        return False, ""
    appointment.patient_seat, appointment.patient_channel, appointment.patient_seen_at = seat, channel, now
    return True, previous if previous and previous != channel else ""


@transaction.atomic
def take_doctor_seat(appointment_id: int, channel: str, user_id: int) -> tuple[bool, str]:
    """Takes the practice's seat. The same user takes it over (a reconnect after a network or server
    interruption, or a new tab); a colleague is refused while it is held."""
    now = timezone.now()
    appointment = Appointment.objects.select_for_update().get(pk=appointment_id)
    previous = appointment.doctor_channel
    if (
        previous
        and previous != channel
        and _fresh(appointment.doctor_seen_at, now)
        and appointment.doctor_seat_user_id != user_id
    ):
        return False, ""
    appointment.doctor_channel, appointment.doctor_seen_at = channel, now
    appointment.doctor_seat_user_id = user_id
    appointment.save(update_fields=["doctor_channel", "doctor_seen_at", "doctor_seat_user"])
    return True, previous if previous and previous != channel else ""


def heartbeat(appointment_id: int, role: str, channel: str) -> bool:
    """The seat's holder is still there. Every open socket sends one every 15 s (5 000 waiting
    patients are 333 a second), so it is one UPDATE written out once, not an ORM query built each
    time. False if another connection holds the seat now (it was taken over while the message
    asking this one to close was lost); an empty seat (the call ended, the patient left) is not."""
    with connection.cursor() as cursor:
        cursor.execute(_sql()[f"heartbeat_{role}"], [_db_time(timezone.now()), appointment_id, channel])
        if cursor.rowcount:
            return True
    return not Appointment.objects.filter(pk=appointment_id).exclude(**{f"{role}_channel": ""}).exists()


def release(appointment_id: int, role: str, channel: str) -> bool:
    fields = {f"{role}_channel": "", f"{role}_seen_at": None}
    if role == "patient":
        fields["waiting_name"] = ""
    return bool(Appointment.objects.filter(pk=appointment_id, **{f"{role}_channel": channel}).update(**fields))


# -- The statements a join and a heartbeat run, written out once --------------------------------
# A patient's join is the hottest path of the signalling server (bench/signalling_capacity.py): the
# ORM spent three quarters of the join's database time building the same two statements again. They
# are built here once from the model's own table and column names, so a renamed field fails the
# first join in the tests rather than silently.

#: What a join reads of the appointment (and whether the practice has webhooks, as one more column).
JOIN_FIELDS = frozenset(
    (
        "id",
        "organisation",
        "doctor",
        "start",
        "status",
        "access_code_digest",
        "code_closes_at",
        "consent_at",
        "patient_seat",
        "patient_channel",
        "patient_seen_at",
        "waiting_name",
        "doctor_channel",
    )
)


@functools.cache
def _join_fields() -> tuple:
    """JOIN_FIELDS in the model's order, as ``Model.from_db`` takes them."""
    return tuple(field for field in Appointment._meta.concrete_fields if field.name in JOIN_FIELDS)


@functools.cache
def _statements(vendor: str) -> dict[str, str]:
    from sprechzimmer.api.models import Webhook

    q = connection.ops.quote_name
    meta = Appointment._meta

    def col(name: str) -> str:
        return q(meta.get_field(name).column)

    table, hooks = q(meta.db_table), q(Webhook._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    org = col("organisation")
    read = (
        f"SELECT {', '.join(q(field.column) for field in _join_fields())}, "
        f"EXISTS (SELECT 1 FROM {hooks} WHERE {hooks}.{q(Webhook._meta.get_field('organisation').column)}"
        f" = {table}.{org}) FROM {table} WHERE {col('id')} = %s AND {col('access_code_digest')} = %s{lock}"
    )
    seat = (
        f"UPDATE {table} SET {col('patient_seat')} = %s, {col('patient_channel')} = %s, {col('patient_seen_at')} = %s"
    )
    statements = {
        "join_read": read,
        "seat": f"{seat} WHERE {col('id')} = %s",
        "seat_enter": f"{seat}, {col('status')} = %s, {col('updated_at')} = %s WHERE {col('id')} = %s",
    }
    for role in ("patient", "doctor"):
        statements[f"heartbeat_{role}"] = (
            f"UPDATE {table} SET {col(role + '_seen_at')} = %s WHERE {col('id')} = %s AND {col(role + '_channel')} = %s"
        )
    return statements


def _sql() -> dict[str, str]:
    return _statements(connection.vendor)


def _db_time(value):
    return connection.ops.adapt_datetimefield_value(value)


def _from_db_time(value):
    convert = getattr(connection.ops, "convert_datetimefield_value", None)  # SQLite keeps text
    return convert(value, None, connection) if convert is not None else value


def read_for_join(appointment_id: int, digest: str) -> Appointment | None:
    """The appointment a patient token names, its row locked for the rest of the caller's
    transaction (on PostgreSQL), with ``has_webhooks``; only the fields of ``JOIN_FIELDS`` are
    loaded. None if no appointment has that id and code digest."""
    with connection.cursor() as cursor:
        cursor.execute(_sql()["join_read"], [appointment_id, digest])
        row = cursor.fetchone()
    if row is None:
        return None
    fields = _join_fields()
    values = [
        _from_db_time(value) if isinstance(field, DateTimeField) else value
        for field, value in zip(fields, row, strict=False)
    ]
    appointment = Appointment.from_db(connection.alias, [field.attname for field in fields], values)
    appointment.has_webhooks = bool(row[-1])
    return appointment


def save_patient_seat(appointment: Appointment, *, entered: bool) -> None:
    """Writes the seat ``seat_patient`` took (and, if the patient ``entered`` the waiting room, the
    status and ``updated_at``) in one UPDATE."""
    seat = [appointment.patient_seat, appointment.patient_channel, _db_time(appointment.patient_seen_at)]
    with connection.cursor() as cursor:
        if entered:
            cursor.execute(
                _sql()["seat_enter"], [*seat, appointment.status, _db_time(appointment.updated_at), appointment.pk]
            )
        else:
            cursor.execute(_sql()["seat"], [*seat, appointment.pk])
