# Copyright (c) interwild_mm contributors.
"""Output files of the inferencer: JSON records, OBJ meshes, overlays.

Per image: ``<name>.json``, ``<name>_p<k>_{right,left,hands}.obj``
(real-camera metres) and ``<name>_overlay.png``; per video:
``<name>_overlay.mp4`` and ``<name>.jsonl`` (one JSON object per frame, the
:data:`CONVENTIONS` block in the first line). Non-finite numbers are written
as JSON ``null``.
"""
import copy
import glob
import json
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from interwild_mm.mano.constants import SH_JOINT_NAMES
from interwild_mm.visualization.mesh_io import save_obj
from .inputs import InputItem
from .postprocess import HANDS, is_placed

__all__ = [
    'CONVENTIONS', 'to_jsonable', 'record_to_json', 'image_record',
    'save_person_meshes', 'existing_outputs', 'check_out_dir',
    'write_image_outputs', 'VideoOutputs'
]

CONVENTIONS = {
    'frame': ('Real camera of the ORIGINAL image: x right, y down, z '
              'forward, metres. Pixels are original-image pixels with pixel '
              'centres at integer coordinates.'),
    'camera': ('Pinhole u = fx*X/Z + cx, v = fy*Y/Z + cy with "focal" and '
               '"princpt"; without user intrinsics f = sqrt(W^2+H^2) and the '
               'principal point is ((W-1)/2, (H-1)/2).'),
    'mano': ('Axis-angle in radians: global_orient (3) and hand_pose (45 = '
             '15 joints in MANO J_regressor order 1..15), use_pca=False, '
             'flat_hand_mean=False, i.e. hand_pose is RELATIVE TO the MANO '
             'mean pose (hands_mean); betas (10). Left hands use MANO_LEFT '
             'with the shapedirs x-fix. MANO transl is not used: meshes are '
             'placed by their regressed wrist.'),
    'joints': ('21 joints per hand, order: ' + ', '.join(SH_JOINT_NAMES) +
               ' (fingertips = MANO vertices 745, 317, 445, 556, 673).'),
    'joints_2d': ('PositionNet joints (x, y) in original-image pixels.'),
    'joints_cam_rel/vertices_rel': ('Wrist-relative (wrist = joint 0 = '
                                    'origin), metres, camera axes.'),
    'root_cam_virtual': ('Wrist in the hand crop\'s virtual camera (focal '
                         '5000, principal point (128, 128) on the 256x256 '
                         'crop); virtual_camera = that camera in original '
                         'pixels.'),
    'wrist_cam': ('Wrist in the real camera from this hand alone '
                  '(translation fitted so the joints project onto their '
                  'virtual-camera projections).'),
    'wrist_cam_scene': ('Wrist in the real camera in the person\'s scene: '
                        'in two-hand mode both hands are one rigid body '
                        '(left wrist = right wrist + rel_trans) fitted over '
                        'all 42 joints; otherwise equal to wrist_cam. The '
                        '*.obj files and the overlay use these positions.'),
    'rel_trans': 'Left wrist minus right wrist (TransNet), metres.',
    'bbox_score': ('DetectNet confidence: the softmax probability of the '
                   'centre heatmap (64x48 cells) sampled at the predicted '
                   'centre; 1/3072 ~ 3e-4 for a flat map, up to 1 for a peak '
                   'in one cell. present = bbox_score >= hand_score_thr.'),
    'two_hand_mode': ('Both hands present and their boxes overlap (IoU > '
                      '0), as in the official demo.'),
    'placement': ('A present hand that cannot be placed in the real camera '
                  '(zero-size box, joints at or behind a camera, NaN/inf '
                  'values) has placement "degenerate" and the reason in '
                  'placement_error; it has no wrist_cam, mesh file or '
                  'overlay mesh. Non-finite numbers are written as null.'),
}


def to_jsonable(obj: Any, ndigits: int = 6) -> Any:
    """Nested dicts / lists / arrays / tensors -> JSON types (floats
    rounded to ``ndigits``; NaN and inf -> None)."""
    if isinstance(obj, dict):
        return {k: to_jsonable(v, ndigits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v, ndigits) for v in obj]
    if isinstance(obj, torch.Tensor):
        obj = obj.detach().cpu().numpy()
    if isinstance(obj, np.ndarray):
        if not np.issubdtype(obj.dtype, np.floating):
            return obj.tolist()
        rounded = np.round(obj.astype(np.float64), ndigits)
        if np.all(np.isfinite(rounded)):
            return rounded.tolist()
        return to_jsonable(rounded.tolist(), ndigits)
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return round(value, ndigits) if np.isfinite(value) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def record_to_json(record: Dict[str, Any],
                   with_conventions: bool = True) -> Dict[str, Any]:
    """JSON-able copy of a result record (internal keys dropped)."""
    rec = copy.copy(record)
    rec.pop('overlay', None)
    rec.pop('data_samples', None)
    persons = []
    for k, person in enumerate(record['persons']):
        person = dict(person, person_id=k)
        person['hands'] = {
            side: {key: val for key, val in hand.items()
                   if key != 'targets_2d'}
            for side, hand in person['hands'].items()
        }
        persons.append(person)
    rec['persons'] = persons
    if with_conventions:
        rec = dict(conventions=CONVENTIONS, **rec)
    return to_jsonable(rec)


def save_person_meshes(out_dir: str, name: str,
                       persons: List[Dict[str, Any]],
                       faces: Dict[str, np.ndarray]) -> List[str]:
    """Write ``<name>_p<k>_{right,left,hands}.obj`` (real-camera metres)
    of every placed hand; adds ``mesh_file`` / ``scene_mesh_file`` to the
    records."""
    files = []
    for k, person in enumerate(persons):
        verts, tris, offset = [], [], 0
        for side in HANDS:
            hand = person['hands'][side]
            if not is_placed(hand):
                continue
            v = hand['vertices_rel'] + hand['wrist_cam_scene']
            path = osp.join(out_dir, f'{name}_p{k}_{side}.obj')
            save_obj(path, v, faces[side])
            hand['mesh_file'] = osp.basename(path)
            files.append(path)
            verts.append(v)
            tris.append(faces[side] + offset)
            offset += len(v)
        if verts:
            path = osp.join(out_dir, f'{name}_p{k}_hands.obj')
            save_obj(path, np.concatenate(verts), np.concatenate(tris))
            person['scene_mesh_file'] = osp.basename(path)
            files.append(path)
    return files


def image_record(name: str, source: str, image_shape: Tuple[int, int],
                 focal: np.ndarray, princpt: np.ndarray, cam_source: str,
                 hand_score_thr: float,
                 persons: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The result record of one image (see ``InterWildInferencer``)."""
    return dict(
        name=name,
        input=source,
        image_size=dict(height=int(image_shape[0]),
                        width=int(image_shape[1])),
        camera=dict(focal=focal, princpt=princpt, source=cam_source),
        hand_score_thr=hand_score_thr,
        persons=persons)


def existing_outputs(out_dir: str, items: Sequence[InputItem]) -> List[str]:
    """Files in ``out_dir`` that a run on ``items`` would write."""
    if not osp.isdir(out_dir):
        return []
    found = []
    for item in items:
        stem = glob.escape(osp.join(out_dir, item.name))
        patterns = ([stem + '.jsonl', stem + '_overlay.mp4']
                    if item.kind == 'video' else
                    [stem + '.json', stem + '_overlay.png',
                     stem + '_p*_right.obj', stem + '_p*_left.obj',
                     stem + '_p*_hands.obj'])
        for pat in patterns:
            found += glob.glob(pat)
    return sorted(set(found))


def check_out_dir(out_dir: Optional[str], items: Sequence[InputItem],
                  overwrite: bool) -> None:
    """Refuse to overwrite outputs (unless ``overwrite``); create
    ``out_dir``.

    Raises:
        FileExistsError: naming (some of) the files that exist.
    """
    if out_dir is None:
        return
    clash = existing_outputs(out_dir, items)
    if clash and not overwrite:
        shown = ', '.join(osp.basename(p) for p in clash[:5])
        more = f' and {len(clash) - 5} more' if len(clash) > 5 else ''
        raise FileExistsError(
            f'{len(clash)} output file(s) already exist in {out_dir!r} '
            f'({shown}{more}); refusing to overwrite. Use another '
            '--out-dir, or pass --overwrite (overwrite=True).')
    os.makedirs(out_dir, exist_ok=True)


def write_image_outputs(out_dir: str, record: Dict[str, Any],
                        overlay: Optional[np.ndarray],
                        faces: Optional[Dict[str, np.ndarray]]) -> None:
    """Write an image's OBJ files (if ``faces``), overlay and JSON; sets
    ``record['files']`` to their names."""
    name = record['name']
    files = []
    if faces is not None:
        files += save_person_meshes(out_dir, name, record['persons'], faces)
    if overlay is not None:
        path = osp.join(out_dir, f'{name}_overlay.png')
        if not cv2.imwrite(path, overlay):
            raise OSError(f'could not write {path!r}.')
        files.append(path)
    path = osp.join(out_dir, f'{name}.json')
    files.append(path)
    record['files'] = [osp.basename(p) for p in files]
    with open(path, 'w') as fh:
        json.dump(record_to_json(record), fh, indent=1, allow_nan=False)


class VideoOutputs:
    """``<name>.jsonl`` and (optionally) ``<name>_overlay.mp4`` of a video.

    Args:
        out_dir (str, optional): output folder; None writes nothing.
        name (str): output file stem.
        fps (float): frame rate of the overlay video.
        size_wh (tuple): frame ``(W, H)`` of the overlay video.
        draw (bool): write the overlay video.
    """

    def __init__(self, out_dir: Optional[str], name: str, fps: float,
                 size_wh: Tuple[int, int], draw: bool) -> None:
        self.size_wh = tuple(size_wh)
        self.jsonl = self.video = None
        if out_dir is None:
            return
        self.jsonl = open(osp.join(out_dir, f'{name}.jsonl'), 'w')
        if draw:
            path = osp.join(out_dir, f'{name}_overlay.mp4')
            self.video = cv2.VideoWriter(path,
                                         cv2.VideoWriter_fourcc(*'mp4v'),
                                         fps, self.size_wh)
            if not self.video.isOpened():
                self.close()
                raise OSError(f'cannot open video writer for {path!r}.')

    @property
    def draws(self) -> bool:
        """An overlay video is written."""
        return self.video is not None

    def write(self, record: Dict[str, Any], frame: np.ndarray,
              overlay: Optional[np.ndarray], first: bool) -> None:
        """Append one frame (the overlay, else the frame itself) and its
        JSON line (with the conventions block if ``first``)."""
        if self.video is not None:
            img = overlay if overlay is not None else frame
            if img.shape[1::-1] != self.size_wh:
                img = cv2.resize(img, self.size_wh)
            self.video.write(img)
        if self.jsonl is not None:
            line = record_to_json(record, with_conventions=first) \
                if 'persons' in record else to_jsonable(record)
            self.jsonl.write(json.dumps(line, allow_nan=False) + '\n')

    def close(self) -> None:
        """Flush and close the files."""
        if self.video is not None:
            self.video.release()
        if self.jsonl is not None:
            self.jsonl.close()
