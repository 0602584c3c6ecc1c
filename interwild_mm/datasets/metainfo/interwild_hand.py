# Copyright (c) interwild_mm contributors.
"""Keypoint layout of one hand: InterWild's single-hand 21-joint set.

mmpose metainfo file (``dataset_info``) for SHNet's outputs and single-hand
datasets: ``Wrist, Thumb_1..4, Index_1..4, Middle_1..4, Ring_1..4,
Pinky_1..4`` (each finger from its base to its tip), the order of
``interwild_mm.mano.constants.SH_JOINT_NAMES`` (see
``docs/official_conventions.md §0.1``). It is joint for joint the order of
mmpose's hand datasets (``coco_wholebody_hand``: wrist, thumb1..4,
forefinger1..4, middle_finger1..4, ring_finger1..4, pinky_finger1..4), so
their annotations can be used as they are; a test checks both. A single
hand has no left/right partner joints: every ``swap`` is empty (horizontal
flipping keeps each joint's index). The skeleton is
``SH_SKELETON``.
"""
# Built with comprehensions (mmengine config files may hold plain Python
# but no imports): names per finger from base to tip, one colour per finger.
_fingers = ('Thumb', 'Index', 'Middle', 'Ring', 'Pinky')
_finger_colors = ([255, 128, 0], [255, 153, 255], [102, 178, 255],
                  [255, 51, 51], [0, 255, 0])
_names = ['Wrist'] + [f'{f}_{k}' for f in _fingers for k in range(1, 5)]
_colors = [[255, 255, 255]] + [c for c in _finger_colors for _ in range(4)]
_links = [(f'{f}_{k - 1}' if k > 1 else 'Wrist', f'{f}_{k}')
          for f in _fingers for k in range(1, 5)]

dataset_info = dict(
    dataset_name='interwild_hand',
    paper_info=dict(
        author='Moon, Gyeongsik',
        title='Bringing Inputs to Shared Domains for 3D Interacting Hands '
        'Recovery in the Wild',
        container='CVPR',
        year='2023',
        homepage='https://github.com/facebookresearch/InterWild',
    ),
    keypoint_info={
        i: dict(name=n, id=i, color=_colors[i], type='', swap='')
        for i, n in enumerate(_names)
    },
    skeleton_info={
        i: dict(link=link, id=i, color=_finger_colors[i // 4])
        for i, link in enumerate(_links)
    },
    joint_weights=[1.0] * len(_names),
    sigmas=[0.025] * len(_names),
)
