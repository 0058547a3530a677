"""The actor library: Actor model, actors.json registry, search and filters."""

from .model import Actor, Facets, check_actor_name, default_trigger, trigger_problem
from .registry import ActorQuery, Registry, library_status, read_json

__all__ = ["Actor", "ActorQuery", "Facets", "Registry", "check_actor_name", "default_trigger",
           "library_status", "read_json", "trigger_problem"]
