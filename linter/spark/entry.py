"""`orderlint spark` from the command line: the JVM is launched as early as the command can be checked, and
the rest of the driver (the Bulk Data reader, the engine, the store, the pipeline's pandas and pyarrow) is
imported while it starts. A missing extra or a wrong profile is said before any JVM starts."""

from __future__ import annotations

import argparse
import sys

from linter.profiles import load_profile


def spark_command(args: argparse.Namespace) -> int:
    try:
        import pyspark  # noqa: F401 - only to say clearly that the extra is missing
    except ImportError:
        print("orderlint: error: pyspark is not installed: pip install 'orderlint[spark]'", file=sys.stderr)
        return 2
    from linter.spark import launch  # lazy: pyspark is imported here, never when the CLI starts

    profile = load_profile(args.profile)  # a wrong profile is said before a JVM starts
    started = launch.start(args)  # the JVM starts while the rest of the driver is imported and the salt read
    if isinstance(started, str):
        print(f"orderlint: error: {started}", file=sys.stderr)
        return 2
    try:
        from linter.bulk_cli import installation_salt  # lazy: the store, once the JVM is starting
        from linter.spark.job import command  # lazy: the pipeline (pandas, pyarrow), idem

        salt = installation_salt()
    except BaseException:
        started.stop()
        raise
    return command(args, profile, salt, started)
