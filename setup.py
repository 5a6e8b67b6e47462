"""Only for the C extension; everything else is in pyproject.toml.

The KVDT scanner (src/sprechzimmer/billing/domain/_kvdt.c) is optional: without a C compiler the
install goes on and the reader uses its Python loop (same results, about half the speed)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "sprechzimmer.billing.domain._kvdt",
            ["src/sprechzimmer/billing/domain/_kvdt.c"],
            optional=True,
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
        )
    ]
)
