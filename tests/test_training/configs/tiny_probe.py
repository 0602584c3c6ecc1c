# The tiny training model (tests/test_training/configs/tiny_interwild.py)
# with ProbeHook (tests/test_training/probe_hook.py), which records what the
# tools built; data/MANO paths come from --cfg-options.
_base_ = ['./tiny_interwild.py']

custom_imports = dict(
    imports=['interwild_mm', 'interwild_mm.utils.safe_loading', 'probe_hook'],
    allow_failed_imports=False)
custom_hooks = [dict(type='ProbeHook')]
