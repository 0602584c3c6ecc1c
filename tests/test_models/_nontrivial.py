"""Small InterWild models with non-degenerate outputs, and real inputs.

The default head initialisation (std 1e-3) puts every box at the grid
centre with size ~0 and every joint at the crop centre; the builders here
give input-dependent boxes, spread joints and a rel_trans of ~0.1 m, so
numerical differences show in the outputs.
"""
from pathlib import Path
from typing import Optional

import cv2
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmpose.registry import MODELS

from ._interwild_tiny import tiny_model_cfg, tiny_resnet


def randomise_bn(model: nn.Module, seed: int = 0, spread: float = 0.2,
                 low: float = 0.5, width: float = 1.0,
                 generator: Optional[torch.Generator] = None) -> None:
    """Non-trivial BN statistics and affines, otherwise folding is the
    identity: running means and biases ~ N(0, spread^2), running variances
    and weights ~ U(low, low + width), drawn module by module in that order.

    Args:
        model (nn.Module): Changed in place.
        seed (int): Seed of the draws when no ``generator`` is given.
        spread (float): Std of the means and biases.
        low (float): Lower end of the variances and weights.
        width (float): Width of their range.
        generator (torch.Generator, optional): Draw from it (and advance it)
            instead of a new one seeded with ``seed``.
    """
    g = generator or torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, _BatchNorm):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=g) * spread)
                m.running_var.copy_(torch.rand(c, generator=g) * width + low)
                m.weight.copy_(torch.rand(c, generator=g) * width + low)
                m.bias.copy_(torch.randn(c, generator=g) * spread)


def spread_boxes_and_joints(model: nn.Module, generator: torch.Generator,
                            centre_std: float, position_std: float) -> None:
    """Input-dependent hand-box centres of ~8x8 grid cells and spread joints
    (the default head init, std 1e-3, collapses every box to the grid centre
    with size ~0 and every joint to the crop centre).

    Args:
        model (nn.Module): An InterWild, changed in place.
        generator (torch.Generator): Draws the new weights (advanced).
        centre_std (float): Std of DetectNet's box-centre conv weights.
        position_std (float): Std of SHNet's joint-position conv weights.
    """
    with torch.no_grad():
        head = model.detect_net.head
        w = head.bbox_center[0].weight
        w.copy_(torch.randn(w.shape, generator=generator) * centre_std)
        for mlp in (head.rhand_size, head.lhand_size):
            mlp[2].bias.copy_(torch.tensor([8.0, 8.0]))
        pos = model.shnet.hand_position_net.conv[0].weight
        pos.copy_(torch.randn(pos.shape, generator=generator) * position_std)


def tiny_model(mano_dir, seed=0, first_conv_impl='factorised',
               backbone_width=8):
    """Narrow InterWild (``tiny_model_cfg``) with randomised BatchNorms,
    spread boxes/joints and a rel_trans of ~0.1 m; eval mode."""
    torch.manual_seed(seed)
    cfg = tiny_model_cfg(mano_dir, first_conv_impl)
    if backbone_width != 8:  # body and hand ResNet-18 of another width
        for key in ('detect_net', 'hand_roi'):
            cfg[key]['backbone'] = tiny_resnet(18, backbone_width)
        cfg['detect_net']['head']['in_channels'] = 8 * backbone_width
        cfg['shnet']['in_channels'] = 8 * backbone_width
    model = MODELS.build(cfg)
    model.init_weights()
    randomise_bn(model, seed)
    g = torch.Generator().manual_seed(seed + 1)
    spread_boxes_and_joints(model, g, centre_std=0.3, position_std=0.3)
    with torch.no_grad():
        # TransNet: a first conv and fc giving rel_trans ~ 0.1 m that varies
        # with the joints (as a trained one), so rounding shows in metres
        tconv = model.trans_net.conv[0].weight
        tconv.copy_(torch.randn(tconv.shape, generator=g) * 0.01)
        fc = model.trans_net.fc[0].weight
        fc.copy_(torch.randn(fc.shape, generator=g) * 0.02)
    return model.eval()


def sensitive_model(mano_dir, first_conv_impl, backbone_width=64):
    """:func:`tiny_model` whose hand boxes move with the image content:
    DetectNet's deconvolutions get He-scaled weights and a strong centre
    conv (the default 1e-3 init makes every centre the grid centre). The
    backbones have the standard ResNet width by default (see
    ``inference_opt``'s notes on micro-batches)."""
    model = tiny_model(mano_dir, first_conv_impl=first_conv_impl,
                        backbone_width=backbone_width)
    g = torch.Generator().manual_seed(11)
    with torch.no_grad():
        head = model.detect_net.head
        for mod in head.deconv:
            if isinstance(mod, nn.ConvTranspose2d):
                std = (2.0 / (mod.weight.shape[0] * 4))**0.5
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=g) *
                                 std)
        w = head.bbox_center[0].weight
        w.copy_(torch.randn(w.shape, generator=g) * 3.0)
    return model


def real_inputs(n):
    """``(n, 3, 512, 384)`` RGB [0, 1] from the fixture photos (random noise
    would give the same boxes for every row)."""
    root = Path(__file__).resolve().parents[1] / 'data'
    paths = sorted(root.glob('interhand2.6m/*.jpg')) + sorted(
        root.glob('coco_wholebody/*.jpg'))
    imgs = []
    for p in paths[:n]:
        img = cv2.imread(str(p), cv2.IMREAD_COLOR)[:, :, ::-1]
        img = cv2.resize(img, (384, 512), interpolation=cv2.INTER_LINEAR)
        imgs.append(torch.from_numpy(img.copy()).permute(2, 0, 1) / 255.0)
    assert len(imgs) == n
    return torch.stack(imgs).float()
