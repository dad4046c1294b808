"""A loopback receiver for lifecycle events: an Event Grid topic stand-in and a webhook receiver.

See ``receiver.py``. Everything it accepts is checked against the CloudEvents 1.0 spec
(``cloudevents_check.py``), not against the control plane's own code.
"""

from sandbox.events.cloudevents_check import cloudevent_problems
from sandbox.events.receiver import EventReceiver, ReceivedEvent

__all__ = ["EventReceiver", "ReceivedEvent", "cloudevent_problems"]
