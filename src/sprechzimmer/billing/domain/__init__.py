"""EBM 4.3.1 billing rules for video and telephone contacts: the pure domain core (no Django).

Entry points: :class:`~.run.CheckRun` (read a KVDT or JSON file and check it case by case),
:class:`~.rules.QuarterCheck` (check cases you built yourself), the report writers in ``report``.
"""
