"""Run zoompac inside your tests: a background-thread server and a control-plane client.

`ZoompacServer` works with any test runner; the pytest plugin in `zoompac.testing.plugin`
builds its fixtures on it.
"""

from zoompac.testing._control import ControlPlane, ControlPlaneError
from zoompac.testing._server import DEMO_CREDENTIALS, ZoompacServer

__all__ = ["DEMO_CREDENTIALS", "ControlPlane", "ControlPlaneError", "ZoompacServer"]
