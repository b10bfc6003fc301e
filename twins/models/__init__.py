"""The plant model, the digital twins and the simulation runs."""
from .experiment import Experiment, ExperimentPoint
from .plant import Asset, AssetType, Connection, Factory, Layout, Membership, Role
from .simulation import SimulationReplication, SimulationRun
from .twin import Alarm, AlarmRule, TelemetryPoint, TelemetryRollup, Twin

__all__ = [
    "Alarm", "AlarmRule", "Asset", "AssetType", "Connection", "Experiment", "ExperimentPoint", "Factory", "Layout", "Membership", "Role",
    "SimulationReplication", "SimulationRun", "TelemetryPoint", "TelemetryRollup", "Twin",
]
