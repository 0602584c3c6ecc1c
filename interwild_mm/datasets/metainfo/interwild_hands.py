# Copyright (c) interwild_mm contributors.
"""Keypoint layout of the InterWild two-hand 42-joint ("th") set.

mmpose metainfo file (``dataset_info``): right hand 0-20, left hand 21-41,
each ``Wrist, Thumb_1..4, Index_1..4, Middle_1..4, Ring_1..4, Pinky_1..4``.
Flip pairs are ``(i, i + 21)``. Generated from
``interwild_mm.mano.constants`` (``TH_JOINT_NAMES``, ``TH_SKELETON``); a
test checks that the two stay in sync.
"""
dataset_info = dict(
    dataset_name='interwild_hands',
    paper_info=dict(
        author='Moon, Gyeongsik',
        title='Bringing Inputs to Shared Domains for 3D Interacting Hands '
        'Recovery in the Wild',
        container='CVPR',
        year='2023',
        homepage='https://github.com/facebookresearch/InterWild',
    ),
    keypoint_info={
        0:
        dict(name='R_Wrist', id=0, color=[255, 128, 0], type='upper',
             swap='L_Wrist'),
        1:
        dict(name='R_Thumb_1', id=1, color=[255, 128, 0], type='upper',
             swap='L_Thumb_1'),
        2:
        dict(name='R_Thumb_2', id=2, color=[255, 128, 0], type='upper',
             swap='L_Thumb_2'),
        3:
        dict(name='R_Thumb_3', id=3, color=[255, 128, 0], type='upper',
             swap='L_Thumb_3'),
        4:
        dict(name='R_Thumb_4', id=4, color=[255, 128, 0], type='upper',
             swap='L_Thumb_4'),
        5:
        dict(name='R_Index_1', id=5, color=[255, 128, 0], type='upper',
             swap='L_Index_1'),
        6:
        dict(name='R_Index_2', id=6, color=[255, 128, 0], type='upper',
             swap='L_Index_2'),
        7:
        dict(name='R_Index_3', id=7, color=[255, 128, 0], type='upper',
             swap='L_Index_3'),
        8:
        dict(name='R_Index_4', id=8, color=[255, 128, 0], type='upper',
             swap='L_Index_4'),
        9:
        dict(name='R_Middle_1', id=9, color=[255, 128, 0], type='upper',
             swap='L_Middle_1'),
        10:
        dict(name='R_Middle_2', id=10, color=[255, 128, 0], type='upper',
             swap='L_Middle_2'),
        11:
        dict(name='R_Middle_3', id=11, color=[255, 128, 0], type='upper',
             swap='L_Middle_3'),
        12:
        dict(name='R_Middle_4', id=12, color=[255, 128, 0], type='upper',
             swap='L_Middle_4'),
        13:
        dict(name='R_Ring_1', id=13, color=[255, 128, 0], type='upper',
             swap='L_Ring_1'),
        14:
        dict(name='R_Ring_2', id=14, color=[255, 128, 0], type='upper',
             swap='L_Ring_2'),
        15:
        dict(name='R_Ring_3', id=15, color=[255, 128, 0], type='upper',
             swap='L_Ring_3'),
        16:
        dict(name='R_Ring_4', id=16, color=[255, 128, 0], type='upper',
             swap='L_Ring_4'),
        17:
        dict(name='R_Pinky_1', id=17, color=[255, 128, 0], type='upper',
             swap='L_Pinky_1'),
        18:
        dict(name='R_Pinky_2', id=18, color=[255, 128, 0], type='upper',
             swap='L_Pinky_2'),
        19:
        dict(name='R_Pinky_3', id=19, color=[255, 128, 0], type='upper',
             swap='L_Pinky_3'),
        20:
        dict(name='R_Pinky_4', id=20, color=[255, 128, 0], type='upper',
             swap='L_Pinky_4'),
        21:
        dict(name='L_Wrist', id=21, color=[0, 128, 255], type='upper',
             swap='R_Wrist'),
        22:
        dict(name='L_Thumb_1', id=22, color=[0, 128, 255], type='upper',
             swap='R_Thumb_1'),
        23:
        dict(name='L_Thumb_2', id=23, color=[0, 128, 255], type='upper',
             swap='R_Thumb_2'),
        24:
        dict(name='L_Thumb_3', id=24, color=[0, 128, 255], type='upper',
             swap='R_Thumb_3'),
        25:
        dict(name='L_Thumb_4', id=25, color=[0, 128, 255], type='upper',
             swap='R_Thumb_4'),
        26:
        dict(name='L_Index_1', id=26, color=[0, 128, 255], type='upper',
             swap='R_Index_1'),
        27:
        dict(name='L_Index_2', id=27, color=[0, 128, 255], type='upper',
             swap='R_Index_2'),
        28:
        dict(name='L_Index_3', id=28, color=[0, 128, 255], type='upper',
             swap='R_Index_3'),
        29:
        dict(name='L_Index_4', id=29, color=[0, 128, 255], type='upper',
             swap='R_Index_4'),
        30:
        dict(name='L_Middle_1', id=30, color=[0, 128, 255], type='upper',
             swap='R_Middle_1'),
        31:
        dict(name='L_Middle_2', id=31, color=[0, 128, 255], type='upper',
             swap='R_Middle_2'),
        32:
        dict(name='L_Middle_3', id=32, color=[0, 128, 255], type='upper',
             swap='R_Middle_3'),
        33:
        dict(name='L_Middle_4', id=33, color=[0, 128, 255], type='upper',
             swap='R_Middle_4'),
        34:
        dict(name='L_Ring_1', id=34, color=[0, 128, 255], type='upper',
             swap='R_Ring_1'),
        35:
        dict(name='L_Ring_2', id=35, color=[0, 128, 255], type='upper',
             swap='R_Ring_2'),
        36:
        dict(name='L_Ring_3', id=36, color=[0, 128, 255], type='upper',
             swap='R_Ring_3'),
        37:
        dict(name='L_Ring_4', id=37, color=[0, 128, 255], type='upper',
             swap='R_Ring_4'),
        38:
        dict(name='L_Pinky_1', id=38, color=[0, 128, 255], type='upper',
             swap='R_Pinky_1'),
        39:
        dict(name='L_Pinky_2', id=39, color=[0, 128, 255], type='upper',
             swap='R_Pinky_2'),
        40:
        dict(name='L_Pinky_3', id=40, color=[0, 128, 255], type='upper',
             swap='R_Pinky_3'),
        41:
        dict(name='L_Pinky_4', id=41, color=[0, 128, 255], type='upper',
             swap='R_Pinky_4'),
    },
    skeleton_info={
        0:
        dict(link=('R_Wrist', 'R_Thumb_1'), id=0, color=[255, 128, 0]),
        1:
        dict(link=('R_Thumb_1', 'R_Thumb_2'), id=1, color=[255, 128, 0]),
        2:
        dict(link=('R_Thumb_2', 'R_Thumb_3'), id=2, color=[255, 128, 0]),
        3:
        dict(link=('R_Thumb_3', 'R_Thumb_4'), id=3, color=[255, 128, 0]),
        4:
        dict(link=('R_Wrist', 'R_Index_1'), id=4, color=[255, 128, 0]),
        5:
        dict(link=('R_Index_1', 'R_Index_2'), id=5, color=[255, 128, 0]),
        6:
        dict(link=('R_Index_2', 'R_Index_3'), id=6, color=[255, 128, 0]),
        7:
        dict(link=('R_Index_3', 'R_Index_4'), id=7, color=[255, 128, 0]),
        8:
        dict(link=('R_Wrist', 'R_Middle_1'), id=8, color=[255, 128, 0]),
        9:
        dict(link=('R_Middle_1', 'R_Middle_2'), id=9, color=[255, 128, 0]),
        10:
        dict(link=('R_Middle_2', 'R_Middle_3'), id=10, color=[255, 128, 0]),
        11:
        dict(link=('R_Middle_3', 'R_Middle_4'), id=11, color=[255, 128, 0]),
        12:
        dict(link=('R_Wrist', 'R_Ring_1'), id=12, color=[255, 128, 0]),
        13:
        dict(link=('R_Ring_1', 'R_Ring_2'), id=13, color=[255, 128, 0]),
        14:
        dict(link=('R_Ring_2', 'R_Ring_3'), id=14, color=[255, 128, 0]),
        15:
        dict(link=('R_Ring_3', 'R_Ring_4'), id=15, color=[255, 128, 0]),
        16:
        dict(link=('R_Wrist', 'R_Pinky_1'), id=16, color=[255, 128, 0]),
        17:
        dict(link=('R_Pinky_1', 'R_Pinky_2'), id=17, color=[255, 128, 0]),
        18:
        dict(link=('R_Pinky_2', 'R_Pinky_3'), id=18, color=[255, 128, 0]),
        19:
        dict(link=('R_Pinky_3', 'R_Pinky_4'), id=19, color=[255, 128, 0]),
        20:
        dict(link=('L_Wrist', 'L_Thumb_1'), id=20, color=[0, 128, 255]),
        21:
        dict(link=('L_Thumb_1', 'L_Thumb_2'), id=21, color=[0, 128, 255]),
        22:
        dict(link=('L_Thumb_2', 'L_Thumb_3'), id=22, color=[0, 128, 255]),
        23:
        dict(link=('L_Thumb_3', 'L_Thumb_4'), id=23, color=[0, 128, 255]),
        24:
        dict(link=('L_Wrist', 'L_Index_1'), id=24, color=[0, 128, 255]),
        25:
        dict(link=('L_Index_1', 'L_Index_2'), id=25, color=[0, 128, 255]),
        26:
        dict(link=('L_Index_2', 'L_Index_3'), id=26, color=[0, 128, 255]),
        27:
        dict(link=('L_Index_3', 'L_Index_4'), id=27, color=[0, 128, 255]),
        28:
        dict(link=('L_Wrist', 'L_Middle_1'), id=28, color=[0, 128, 255]),
        29:
        dict(link=('L_Middle_1', 'L_Middle_2'), id=29, color=[0, 128, 255]),
        30:
        dict(link=('L_Middle_2', 'L_Middle_3'), id=30, color=[0, 128, 255]),
        31:
        dict(link=('L_Middle_3', 'L_Middle_4'), id=31, color=[0, 128, 255]),
        32:
        dict(link=('L_Wrist', 'L_Ring_1'), id=32, color=[0, 128, 255]),
        33:
        dict(link=('L_Ring_1', 'L_Ring_2'), id=33, color=[0, 128, 255]),
        34:
        dict(link=('L_Ring_2', 'L_Ring_3'), id=34, color=[0, 128, 255]),
        35:
        dict(link=('L_Ring_3', 'L_Ring_4'), id=35, color=[0, 128, 255]),
        36:
        dict(link=('L_Wrist', 'L_Pinky_1'), id=36, color=[0, 128, 255]),
        37:
        dict(link=('L_Pinky_1', 'L_Pinky_2'), id=37, color=[0, 128, 255]),
        38:
        dict(link=('L_Pinky_2', 'L_Pinky_3'), id=38, color=[0, 128, 255]),
        39:
        dict(link=('L_Pinky_3', 'L_Pinky_4'), id=39, color=[0, 128, 255]),
    },
    joint_weights=[1.0] * 42,
    sigmas=[0.025] * 42,
)
