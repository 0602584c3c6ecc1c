# The tiny model for the short-training improvement test: 32 training
# images, batch 2, 4 epochs (64 iterations) with the quickstart's schedule
# and augmentation; tools/test.py / Runner.test evaluate the held-out test
# captures (the validation split, InterHand2.6M protocol).
_base_ = ['./tiny_interwild.py']

max_epochs = 4
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(_base_.param_scheduler[0], end=max_epochs,
         milestones=[max_epochs - 1]),
]
test_dataloader = {{_base_.val_dataloader}}
test_evaluator = {{_base_.val_evaluator}}
