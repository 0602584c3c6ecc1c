# Copyright (c) interwild_mm contributors.
"""Draw augmented InterWild samples to check the data pipeline by eye.

Example::

    python tools/browse_dataset.py \
        configs/_base_/datasets/interwild_fixtures.py \
        --out-dir work_dirs/browse --phase train --max 8

For each sample one PNG (the 384x512 network patch) with: the hand-box
targets (right red, left blue; dashed = invalid), the 2D joint targets of
the 48x64 grid (x8) with the skeleton (truncated joints hidden), the
MANO pseudo-GT mesh as a point splat (projected with the patch camera for
datasets with a real camera, else the MANO 2.5D joints) and a caption with
dataset, id, handedness and the augmentation.
"""
import argparse
import os
import os.path as osp
import sys

import cv2
import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

COLORS = {0: (0, 0, 255), 1: (255, 96, 0)}  # BGR: right red, left blue


def parse_args(argv=None) -> argparse.Namespace:
    from interwild_mm.utils.config import add_cfg_options_argument
    parser = argparse.ArgumentParser(
        description='Draw augmented InterWild samples.')
    parser.add_argument('config', help='config file')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--phase',
        default='train',
        choices=['train', 'val', 'test'],
        help='which dataloader to draw from')
    parser.add_argument('--max', type=int, default=10, help='samples')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    add_cfg_options_argument(parser)
    return parser.parse_args(argv)


def _skeleton():
    from interwild_mm.mano.constants import TH_SKELETON
    return TH_SKELETON


def draw_sample(inputs, data_sample) -> np.ndarray:
    """Render one packed sample into a BGR uint8 image.

    Args:
        inputs (torch.Tensor): (3, H, W) uint8 RGB patch.
        data_sample (PoseDataSample): its targets and metainfo.

    Returns:
        np.ndarray: (H + 40, W, 3) BGR image with a caption strip.
    """
    img = np.ascontiguousarray(inputs.numpy().transpose(1, 2, 0)[..., ::-1])
    img = img.copy()
    lab = data_sample.gt_instance_labels
    gt = data_sample.gt_instances
    meta = data_sample.metainfo
    scale = np.array([8.0, 8.0])  # 48x64 grid -> 384x512 patch

    # MANO mesh point splat
    mesh_valid = lab.mano_mesh_valid[0, :, 0].numpy() > 0
    if mesh_valid.any():
        if lab.is_3D.item() and 'focal' in meta:
            X = gt.gt_mesh_cam[0].astype(np.float64)
            f = np.asarray(meta['focal'], np.float64)
            c = np.asarray(meta['princpt'], np.float64)
            z = np.maximum(X[:, 2:], 1e-6)
            uv = X[:, :2] / z * f + c
            for h in range(2):
                sl = slice(h * 778, (h + 1) * 778)
                if not mesh_valid[sl].all():
                    continue
                color = tuple(int(v * 0.6 + 100) for v in COLORS[h])
                for u, v in uv[sl].astype(int):
                    if 0 <= u < img.shape[1] and 0 <= v < img.shape[0]:
                        img[v, u] = color
        else:
            mj = lab.mano_joint_img[0].numpy()[:, :2] * scale
            mt = lab.mano_joint_trunc[0, :, 0].numpy() > 0
            for j in np.nonzero(mt)[0]:
                cv2.drawMarker(img, tuple(int(v) for v in mj[j]),
                               COLORS[j // 21], cv2.MARKER_TILTED_CROSS, 6)

    # hand boxes
    for h, p in enumerate(('rhand', 'lhand')):
        c = lab[f'{p}_bbox_center'][0].numpy() * scale
        s = lab[f'{p}_bbox_size'][0].numpy() * scale
        x1, y1 = (c - s / 2).astype(int)
        x2, y2 = (c + s / 2).astype(int)
        valid = lab[f'{p}_bbox_valid'].item() > 0
        cv2.rectangle(img, (x1, y1), (x2, y2), COLORS[h], 2 if valid else 1)

    # 2D joints + skeleton
    j2d = lab.joint_img[0].numpy()[:, :2] * scale
    trunc = lab.joint_trunc[0, :, 0].numpy() > 0
    for a, b in _skeleton():
        if trunc[a] and trunc[b]:
            cv2.line(img, tuple(int(v) for v in j2d[a]),
                     tuple(int(v) for v in j2d[b]), COLORS[a // 21], 1,
                     cv2.LINE_AA)
    for j in np.nonzero(trunc)[0]:
        cv2.circle(img, tuple(int(v) for v in j2d[j]), 3, COLORS[j // 21],
                   -1, cv2.LINE_AA)

    caption = (f"{meta.get('dataset_name')} id={meta.get('id')} "
               f"{meta.get('hand_type')} flip={int(bool(meta.get('flip')))} "
               f"rot={meta.get('aug_rot', 0):.0f} "
               f"s={meta.get('aug_scale', 1):.2f} 3D={int(lab.is_3D.item())}")
    strip = np.full((40, img.shape[1], 3), 255, np.uint8)
    cv2.putText(strip, caption, (4, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.36,
                (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([img, strip], axis=0)


def main(argv=None) -> None:
    args = parse_args(argv)
    from mmengine.registry import init_default_scope
    from mmengine.runner import set_random_seed

    import interwild_mm.datasets  # noqa: F401  (register the components)
    from interwild_mm.utils.config import ConfigOverrideError, load_config
    from interwild_mm.utils.tools_common import exit_on
    from mmpose.registry import DATASETS

    with exit_on('tools/browse_dataset.py', ConfigOverrideError):
        cfg = load_config(args.config, args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    set_random_seed(args.seed)
    loader_cfg = cfg.get(f'{args.phase}_dataloader')
    if loader_cfg is None:
        raise KeyError(f'{args.config} has no {args.phase}_dataloader.')
    dataset = DATASETS.build(loader_cfg['dataset'])
    os.makedirs(args.out_dir, exist_ok=True)
    # walk the dataset in sampler order so a mixed set shows both sources
    order = np.random.permutation(len(dataset))[:args.max]
    for k, idx in enumerate(order):
        item = dataset[int(idx)]
        vis = draw_sample(item['inputs'], item['data_samples'])
        meta = item['data_samples'].metainfo
        name = f'{k:03d}_{meta.get("dataset_name")}_{meta.get("id")}.png'
        cv2.imwrite(osp.join(args.out_dir, name), vis)
        print(osp.join(args.out_dir, name))


if __name__ == '__main__':
    main()
