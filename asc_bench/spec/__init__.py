"""The spec: YAML with positions, the typed :class:`Spec`, validation errors at ``file:line:col``, ``--set``
overrides, the spec hash and resolution for a run (teacher specs included)."""
