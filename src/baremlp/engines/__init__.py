"""The engines: other ways to run the steps of one epoch, each ending where the eager loop of
baremlp.train ends.  Every engine is a function with one signature,

    epoch(net, x, y, order, step) -> (J of every step (steps,), correct predictions, steps that lowered J)

where order is the epoch's sample order and step an sgd.Step (loss, lr, λ, momentum and its buffers,
batch size, ...).  It updates net's parameters (and the momentum buffers) in place.

    manual.py       the ops' own backwards (baremlp.backprop) in place of autograd
    compiled.py     an epoch per torch.compile'd scan; vmapped over a population's members
    distributed.py  data parallel on torch.distributed: each batch split across processes
    lifeline.py     a rank dies with torchrun's agent (the --nproc launcher), even one SIGKILLed

The registry, name -> epoch function, is baremlp.train.ENGINES: a new engine is one file here and
one line there.
"""
