"""Lookups that run on every request, their SQL built once per database: a row by primary key
(``ByKey``), the rows from a value of one field on (``RowsFrom``), whether a row with a value
exists (``Exists``).

Django's ORM builds a query's SQL again on every execution. For the user of every request (with
its organisation and duty profile in the same query: 48 columns, two joins) building took 0,62 of
the query's 1,09 ms on a 2-core machine, more than running it; with the device lookup beside it,
the SQL compiler was a sixth of the URL walker's time (py-spy, 2.12.2026). ``ByKey`` lets the ORM
build the query once per database, from the queryset as written, and afterwards only executes it:
the same SQL, the same conversions of the values (Django's converters of each column) and the same
instances (``Model.from_db`` and Django's ``RelatedPopulator`` for ``select_related``), so a field
added to a model is in the next lookup without a change here. ``tests/test_prepared.py`` compares
every field with the ORM's result on both databases. Only the one value changes between calls;
what the queryset filters on besides is part of the built query (and of its parameters).

This reaches into Django's compiler (``select``, ``klass_info``, ``get_converters``), which is not
public API: it is pinned to Django 5.2 LTS, and the test fails on an upgrade that changes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import DateField, Model, QuerySet
from django.db.models.query import get_related_populators

#: The values the SQL is built with; found again among the query's parameters.
_SENTINEL = 7_654_321_987
_DATE_SENTINEL = dt.date(9999, 12, 28)


@dataclass(frozen=True)
class _Plan:
    sql: str
    params: list
    slot: int  # where among the parameters the value goes
    init_list: list[str]
    start: int
    end: int
    converters: list[tuple[int, tuple[list[Callable], Any]]]
    populators: list


class _Prepared:
    """A queryset filtered by ``lookup`` on one value, built once per database (alias and vendor)."""

    def __init__(self, queryset: Callable[[], QuerySet], lookup: str):
        self._queryset, self._lookup = queryset, lookup
        self._plans: dict[tuple[str, str], _Plan] = {}
        self._field_name = lookup.split("__")[0]
        self._model: type[Model] | None = None

    def _model_and_field(self):
        model = self._model
        if model is None:
            model = self._model = self._queryset().model
        field = model._meta.pk if self._field_name == "pk" else model._meta.get_field(self._field_name)
        return model, field

    def _build(self, compiler) -> _Plan:
        """Runs the compiler once; only the parameter at ``slot`` changes between calls (a constant
        of the query, like the 1 of ``SELECT %s AS "a"`` in an ``exists()``, stays as built)."""
        sql, params = compiler.as_sql()
        sentinel = str(self._sentinel())
        where = [index for index, param in enumerate(params) if str(param) == sentinel]
        if len(where) != 1:
            raise ValueError("prepared lookups take a queryset without a filter on the same value")
        klass_info, select = compiler.klass_info, compiler.select
        if klass_info is None:  # exists(): no model to build
            return _Plan(sql, list(params), where[0], [], 0, 0, [], [])
        if compiler.annotation_col_map:
            raise ValueError("prepared lookups take a queryset without annotations")
        fields = klass_info["select_fields"]
        converters = compiler.get_converters([column[0] for column in select[: compiler.col_count]])
        return _Plan(
            sql=sql,
            params=list(params),
            slot=where[0],
            init_list=[column[0].target.attname for column in select[fields[0] : fields[-1] + 1]],
            start=fields[0],
            end=fields[-1] + 1,
            converters=list(converters.items()),
            populators=get_related_populators(klass_info, select, compiler.using),
        )

    def _sentinel(self):
        _, field = self._model_and_field()
        return _DATE_SENTINEL if isinstance(field, DateField) else _SENTINEL

    def _query(self, queryset: QuerySet):
        return queryset.query

    def _execute(self, value, *, many: bool):
        """The rows for ``value`` as the queryset returns them, or None where ``value`` cannot match
        (None, or an integer beyond the column's range: the ORM answers "no row" there since Django
        5.0, instead of the driver's overflow error)."""
        model, field = self._model_and_field()
        alias = router.db_for_read(model)
        connection = connections[alias]
        key = (alias, connection.vendor)
        plan = self._plans.get(key)
        if plan is None:
            query = self._query(self._queryset().filter(**{self._lookup: self._sentinel()}))
            plan = self._plans[key] = self._build(query.get_compiler(alias))
        value = field.get_db_prep_value(value, connection)  # int() of an id, as the ORM's lookup does
        if value is None:
            return None
        if isinstance(value, int):
            low, high = connection.ops.integer_field_range(getattr(field, "target_field", field).get_internal_type())
            if (low is not None and value < low) or (high is not None and value > high):
                return None
        params = list(plan.params)
        params[plan.slot] = value
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            rows = cursor.fetchall() if many else [row for row in [cursor.fetchone()] if row is not None]
        return [self._instance(model, alias, connection, plan, row) for row in rows] if plan.init_list else rows

    @staticmethod
    def _instance(model, alias, connection, plan: _Plan, found) -> Model:
        row = list(found)
        for position, (converters, expression) in plan.converters:  # as SQLCompiler.apply_converters
            value = row[position]
            for convert in converters:
                value = convert(value, expression, connection)
            row[position] = value
        instance = model.from_db(alias, plan.init_list, row[plan.start : plan.end])
        for populator in plan.populators:
            populator.populate(row, instance)
        return instance


class ByKey(_Prepared):
    """``ByKey(lambda: User.objects.select_related("organisation")).get(pk)``: the one row with
    that primary key as the queryset would return it, or None."""

    def __init__(self, queryset: Callable[[], QuerySet]):
        super().__init__(queryset, "pk")

    def get(self, pk) -> Any:
        found = self._execute(pk, many=False)
        return found[0] if found else None


class RowsFrom(_Prepared):
    """``RowsFrom(lambda: NewsBanner.objects.all(), "shown_until__gte").all(today)``: every row of
    the queryset (in its order) with the lookup true for the value."""

    def all(self, value) -> list:
        return self._execute(value, many=True) or []


class Exists(_Prepared):
    """``Exists(lambda: Authenticator.objects.all(), "user_id")(user.pk)``: whether a row of the
    queryset has that value in that field, with the ``exists()`` query built once per database."""

    def _query(self, queryset: QuerySet):
        return queryset.query.exists()

    def __call__(self, value) -> bool:
        return bool(self._execute(value, many=False))
