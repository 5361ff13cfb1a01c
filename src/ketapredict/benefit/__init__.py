"""Who benefits: the individual treatment benefit of ketamine over its comparator, estimated
from randomized contrasts and scored against the generator's true individual effects (the
PATH statement's risk- and effect-modelling approaches; Kent et al., Ann Intern Med 2020)."""
