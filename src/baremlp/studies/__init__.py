"""Many runs, and what they say together.

    population.py   S runs of one shape trained at once, each ending where its single run ends
    stacked.py      the population's training loop: the members' parameters stacked on one axis
    sweeps.py       a grid of settings × seeds, one run folder each; table and heat map
    experiments.py  noise-vs-reg: does λ help on noisy data? 95 % intervals and an answer
    intervals.py    Wilson's interval for a share of runs; the bootstrap for a mean over seeds
"""
