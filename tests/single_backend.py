"""Import ``backend`` into a test module to run it on moto in process only.

Pages and services need one backend; the store contract (tests/test_sync_contract.py) covers
the others.
"""

import pytest


@pytest.fixture(name="backend", params=["moto-inprocess"])
def backend(request):  # type: ignore[no-untyped-def]
    from moto import mock_aws

    with mock_aws():
        yield None
