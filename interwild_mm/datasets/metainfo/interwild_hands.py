# Copyright (c) interwild_mm contributors.
"""Keypoint layout of the InterWild two-hand 42-joint ("th") set.

mmpose metainfo file (``dataset_info``): right hand 0-20, left hand 21-41,
each ``Wrist, Thumb_1..4, Index_1..4, Middle_1..4, Ring_1..4, Pinky_1..4``.
Flip pairs are ``(i, i + 21)``. Generated from
``interwild_mm.mano.constants`` (``TH_JOINT_NAMES``, ``TH_SKELETON``); a
test checks that the two stay in sync.
"""
# Built with comprehensions (mmengine config files may hold plain Python
# but no imports): 21 names per hand, right (orange) then left (blue).
_fingers = ('Thumb', 'Index', 'Middle', 'Ring', 'Pinky')
_sh = ['Wrist'] + [f'{f}_{k}' for f in _fingers for k in range(1, 5)]
_sides = (('R_', 'L_', [255, 128, 0]), ('L_', 'R_', [0, 128, 255]))
_keypoints = [(p + n, q + n, c) for p, q, c in _sides for n in _sh]
_links = [((p + (f'{f}_{k - 1}' if k > 1 else 'Wrist'), p + f'{f}_{k}'), c)
          for p, _, c in _sides for f in _fingers for k in range(1, 5)]

dataset_info = dict(
    dataset_name='interwild_hands',
    paper_info=dict(
        author='Moon, Gyeongsik', container='CVPR', year='2023',
        title=('Bringing Inputs to Shared Domains for 3D Interacting Hands '
               'Recovery in the Wild'),
        homepage='https://github.com/facebookresearch/InterWild'),
    keypoint_info={
        i: dict(name=n, id=i, color=c, type='upper', swap=swap)
        for i, (n, swap, c) in enumerate(_keypoints)
    },
    skeleton_info={
        i: dict(link=link, id=i, color=c)
        for i, (link, c) in enumerate(_links)
    },
    joint_weights=[1.0] * len(_keypoints),
    sigmas=[0.025] * len(_keypoints),
)
