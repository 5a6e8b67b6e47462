"""Lookups that run on every request, their SQL built once per database: a row by primary key
(``ByKey``) and whether a row with a value exists (``Exists``).

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

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

#: The primary key the SQL is built with; found again among the query's parameters.
_SENTINEL = 7_654_321_987


def _built(compiler) -> tuple[str, list, int]:
    """The compiler's SQL, its parameters, and where among them the sentinel key went (a constant
    of the query, like the 1 of ``SELECT %s AS "a"`` in an ``exists()``, stays a parameter)."""
    sql, params = compiler.as_sql()
    where = [index for index, param in enumerate(params) if str(param) == str(_SENTINEL)]
    if len(where) != 1:
        raise ValueError("prepared lookups take a queryset without a filter on the same value")
    return sql, list(params), where[0]


@dataclass(frozen=True)
class _Plan:
    sql: str
    params: list
    slot: int
    init_list: list[str]
    start: int
    end: int
    converters: list[tuple[int, tuple[list[Callable], Any]]]
    populators: list


class ByKey:
    """``ByKey(lambda: User.objects.select_related("organisation")).get(pk)``: the one row with
    that primary key as the queryset would return it, or None."""

    def __init__(self, queryset: Callable[[], QuerySet]):
        self._queryset = queryset
        self._plans: dict[tuple[str, str], _Plan] = {}
        self._model: type[Model] | None = None

    def _plan(self, alias: str) -> _Plan:
        connection = connections[alias]
        key = (alias, connection.vendor)
        plan = self._plans.get(key)
        if plan is None:
            compiler = self._queryset().filter(pk=_SENTINEL).query.get_compiler(alias)
            sql, params, slot = _built(compiler)
            if compiler.annotation_col_map:
                raise ValueError("ByKey takes a queryset without annotations")
            klass_info, select = compiler.klass_info, compiler.select
            fields = klass_info["select_fields"]
            converters = compiler.get_converters([column[0] for column in select[: compiler.col_count]])
            plan = _Plan(
                sql=sql,
                params=params,
                slot=slot,
                init_list=[column[0].target.attname for column in select[fields[0] : fields[-1] + 1]],
                start=fields[0],
                end=fields[-1] + 1,
                converters=list(converters.items()),
                populators=get_related_populators(klass_info, select, alias),
            )
            self._plans[key] = plan
        return plan

    def get(self, pk) -> Any:
        """The instance, or None where no row has that key (also for a key beyond the column's
        range, as the ORM answers since Django 5.0, instead of the driver's overflow error)."""
        model = self._model
        if model is None:
            model = self._model = self._queryset().model
        alias = router.db_for_read(model)
        plan = self._plan(alias)
        connection = connections[alias]
        key = model._meta.pk
        value = key.get_db_prep_value(pk, connection)  # int() of an id, as the ORM's lookup does
        if value is None:
            return None
        if isinstance(value, int):
            low, high = connection.ops.integer_field_range(key.get_internal_type())
            if (low is not None and value < low) or (high is not None and value > high):
                return None
        params = list(plan.params)
        params[plan.slot] = value
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            found = cursor.fetchone()
        if found is None:
            return None
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


class Exists:
    """``Exists(lambda: Authenticator.objects.all(), "user_id")(user.pk)``: whether a row of the
    queryset has that value in that field, with the ``exists()`` query built once per database."""

    def __init__(self, queryset: Callable[[], QuerySet], field: str):
        self._queryset, self._field = queryset, field
        self._sql: dict[tuple[str, str], tuple[str, list, int]] = {}
        self._model: type[Model] | None = None

    def __call__(self, value) -> bool:
        model = self._model
        if model is None:
            model = self._model = self._queryset().model
        alias = router.db_for_read(model)
        connection = connections[alias]
        key = (alias, connection.vendor)
        built = self._sql.get(key)
        if built is None:
            query = self._queryset().filter(**{self._field: _SENTINEL}).query.exists()
            built = self._sql[key] = _built(query.get_compiler(alias))
        sql, params, slot = built
        params = list(params)
        params[slot] = value
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone() is not None
