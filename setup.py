from setuptools import find_packages, setup

setup(
    name="zuora-pipeline",
    version="0.1.0",
    description="Dagster code location mirroring Zuora Workflow definitions into a SQL warehouse",
    packages=find_packages(exclude=["zuora_pipeline_tests*"]),
    include_package_data=True,
    package_data={
        "zuora_pipeline": [
            # The development Dagster instance's configuration (the CLI writes it into its home).
            "dagster.yaml",
            "warehouse/migrations/*.ini",
            "warehouse/migrations/*.mako",
            "warehouse/migrations/versions/*.py",
            # The workflow browser's templates and static files (no build step: served as they are).
            "browser/templates/**",
            "browser/static/**",
        ]
    },
    python_requires=">=3.11",
    install_requires=[
        # The newest set that resolves together: dagster-postgres 0.29.27 pins dagster==1.13.27.
        "dagster==1.13.27",
        "dagster-webserver==1.13.27",
        "dagster-postgres==0.29.27",
        "httpx>=0.28,<0.29",
        # httpcore imports sniffio on every request when it is missing (a sys.path scan each time).
        "sniffio>=1.3",
        "pydantic>=2.7,<3",
        # SQLAlchemy 2.1 maps bare postgresql:// to psycopg 3; every URL we build names its driver.
        "sqlalchemy>=2.0.30,<2.2",
        "alembic>=1.13",
        "psycopg[binary]>=3.2",
        "click>=8.1",
        "cryptography>=42",
        # The simulator: an ASGI app on uvicorn (httptools for throughput).
        "starlette>=0.40",
        "uvicorn[standard]>=0.30",
        "psutil>=5.9",
        # JSON decode/encode of exports and the canonical hash: the sync's CPU hot spots.
        "orjson>=3.9",
        # Field-level comparison of two tasks or two settings objects in `workflows diff`/`compare`.
        "deepdiff>=8,<10",
        # `workflows graph` where Graphviz is not installed: grandalf's layered (Sugiyama) layout in
        # pure Python, and Pillow to draw the PNG.
        "grandalf>=0.8",
        "pillow>=10.1",
    ],
    extras_require={
        # `zuora-pipeline browse`: the read-only workflow browser (uvicorn serves it, above).
        "browser": ["starlette>=0.40", "jinja2>=3.1"],
        "dev": [
            "zuora-pipeline[browser]",
            "pytest>=8",
            "pytest-timeout>=2.3",
            "jsonschema>=4.21",
            "pyyaml>=6",
            "aiosmtpd>=1.4",
            "ruff>=0.6",
            # `dg check defs` / `dg list defs` (configured by pyproject.toml's [tool.dg]).
            "dagster-dg-cli==1.13.27",
            # The browser test drives the system's Chromium (.ci/run installs it with apt).
            "playwright>=1.45",
            # Sampling profiles of a whole command (`py-spy record -- zuora-pipeline sync ...`).
            "py-spy>=0.4",
        ],
    },
    entry_points={"console_scripts": ["zuora-pipeline=zuora_pipeline.cli:main"]},
)
