"""How many patients? The simulation study planner (issue 16): Riley's criteria from the
truth, and learning curves on the generator."""
