"""The therapist's side: clients, goals and session history of one clinic dataset."""

from .clients import Client, ClientRegistry, make_client
from .dataset import derivatives_dir, resolve_data_root
from .goals import GasLevel, Goal, GoalStore, attained_level, make_goal
from .history import SessionInfo, client_sessions, find_session
from .metric_catalog import GOAL_METRICS, GoalMetric, goal_metric

__all__ = [
    "Client", "ClientRegistry", "make_client", "derivatives_dir", "resolve_data_root",
    "GasLevel", "Goal", "GoalStore", "attained_level", "make_goal",
    "SessionInfo", "client_sessions", "find_session",
    "GOAL_METRICS", "GoalMetric", "goal_metric",
]
