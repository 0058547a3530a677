"""`actorbench doctor` and the Connection page's checks: can this machine reach the library?

Pure logic, no printing: ``run_doctor`` returns ``Check`` rows, ``format_table`` and
``exit_code`` turn them into what the CLI prints and returns; the dashboard shows the same rows.
``checks`` holds the row type, ``local`` the settings, credentials, disk and registry checks and
the composition, ``s3`` the bucket's, ``team`` team mode's.

Usage::

    checks = run_doctor(Settings.from_env(), setting_origins(), write=False)
    print(format_table(checks)); sys.exit(exit_code(checks))
"""

from .checks import CONFIG, ENVIRONMENT, FAIL, OK, STATUSES, WARN, Check, Origin
from .local import exit_code, format_table, run_doctor, run_from_env, setting_origins
from .s3 import S3Checks, probe_client
from .team import team_check

__all__ = ["CONFIG", "ENVIRONMENT", "FAIL", "OK", "STATUSES", "WARN", "Check", "Origin",
           "S3Checks", "exit_code", "format_table", "probe_client", "run_doctor", "run_from_env",
           "setting_origins", "team_check"]
