"""Microsoft Graph v1.0 emulator: one object holding the state, the API app and the control app."""

from __future__ import annotations

from entrasync_emulators.graph.api import create_graph_app
from entrasync_emulators.graph.config import GraphConfig
from entrasync_emulators.graph.control import create_control_app
from entrasync_emulators.graph.pipeline import GraphPipeline
from entrasync_emulators.graph.state import GraphState


class GraphEmulator:
    """`api_app` serves /v1.0/...; `control_app` is mounted at /graph on the control server."""

    def __init__(self, config: GraphConfig | None = None) -> None:
        self.state = GraphState(config)
        self.pipeline = GraphPipeline(self.state)
        self.api_app = create_graph_app(self.state, self.pipeline)
        self.control_app = create_control_app(self.state, self.pipeline)


__all__ = ["GraphConfig", "GraphEmulator", "GraphState"]
