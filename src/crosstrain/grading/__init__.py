"""Grade whole submissions and classes: safe unpacking, isolated runs, batch, gradebook, exports.

Arrows point one way: grading uses ``crosstrain.labs`` and ``crosstrain.sandbox``, never ``web``.
Public API: :func:`crosstrain.grading.batch.grade`.
"""
