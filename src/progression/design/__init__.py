"""Designing the fund's pilot."""
from progression.design.closed_forms import *  # noqa: F401,F403
from progression.design.simulate import PilotScenario, PilotSimulation, simulate_pilots, randomised_waves  # noqa
