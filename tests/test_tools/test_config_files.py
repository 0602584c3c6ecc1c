# Copyright (c) interwild_mm contributors.
"""What the config files state through inheritance: every place that reads
the MANO folder, the data roots, the narrow backbones and the runtime of
the SHNet config get the values written out here by hand."""
from mmengine.config import Config

PAPER = 'configs/interwild_ih26m_coco.py'
QUICK = 'configs/interwild_synthetic_quickstart.py'
TINY = 'tests/test_training/configs/tiny_interwild.py'
SHNET = 'configs/shnet/shnet_res50_topdown_256x256.py'
IH_TRAIN = 'annotations/train/InterHand2.6M_train_'
IH_TEST = 'annotations/test/InterHand2.6M_test_'


def _values(node, key):
    """Every value of ``key`` anywhere below ``node``."""
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == key]
        return found + [x for v in node.values() for x in _values(v, key)]
    if isinstance(node, (list, tuple)):
        return [x for v in node for x in _values(v, key)]
    return []


def _runner_part(cfg):
    keys = ('model', 'train_dataloader', 'val_dataloader', 'test_dataloader',
            'val_evaluator', 'test_evaluator')
    return {k: cfg[k] for k in keys}


def test_quickstart_reads_the_synthetic_mano_and_data_everywhere():
    cfg = _runner_part(Config.fromfile(QUICK).to_dict())
    mano = (_values(cfg, 'model_dir') + _values(cfg, 'mano_model_dir') +
            _values(cfg, 'mano_dir'))
    # model, 2 pipelines (train, val) + the HIC test pipeline, 2 metrics
    assert len(mano) == 6 and set(mano) == {'data/mano_synthetic'}
    roots = _values(cfg, 'data_root')
    assert roots == ['data/synthetic/', 'data/synthetic/',
                     'data/synthetic/HIC/data/']
    train = cfg['train_dataloader']
    assert (train['batch_size'], train['num_workers']) == (4, 0)
    assert train['persistent_workers'] is False
    assert train['dataset']['ann_file'] == IH_TRAIN + 'data.json'
    assert cfg['val_dataloader']['dataset']['ann_file'] == (IH_TEST +
                                                            'data.json')
    test = cfg['test_dataloader']
    assert test['dataset']['type'] == 'HICDataset'
    assert 'camera_file' not in test['dataset']
    assert (test['batch_size'], test['drop_last']) == (8, False)


def test_paper_config_reads_one_mano_folder_and_the_official_files():
    cfg = Config.fromfile(PAPER)
    steps = cfg.train_dataloader.dataset.pipeline + cfg.test_dataloader[
        'dataset'].pipeline
    assert [s.mano_model_dir for s in steps if 'mano_model_dir' in s] == [
        None, None]
    assert cfg.val_evaluator.mano_dir is None
    ih26m, coco = cfg.train_dataloader.dataset.datasets
    assert ih26m.data_root == 'data/InterHand26M/'
    assert ih26m.mano_file == IH_TRAIN + 'MANO_NeuralAnnot.json'
    assert ih26m.pipeline == [] and coco.pipeline == []
    ih26m_test = Config.fromfile(
        'configs/interwild_ih26m_coco_test_ih26m.py').test_dataloader
    assert ih26m_test.dataset.joint_file == IH_TEST + 'joint_3d.json'
    assert ih26m_test.dataset.annot_subset_file == 'aid_human_annot_test.txt'
    assert ih26m_test.sampler == dict(type='DefaultSampler', shuffle=False)
    assert (ih26m_test.batch_size, ih26m_test.num_workers) == (64, 8)


def test_body_and_hand_backbones_are_alike_and_transnet_is_resnet18():
    model = Config.fromfile(PAPER).model
    body, hand = model.detect_net.backbone, model.hand_roi.backbone
    assert body == hand and body.depth == 50
    trans = model.trans_net.backbone
    assert trans.depth == 18 and trans.norm_cfg == body.norm_cfg
    assert trans.init_cfg.checkpoint == 'torchvision://resnet18'


def test_tiny_config_narrows_the_quickstart_backbones():
    model = Config.fromfile(TINY).model
    for part in ('detect_net', 'hand_roi', 'trans_net'):
        assert model[part].backbone == dict(
            type='ResNet', depth=18, base_channels=8, stem_channels=8,
            out_indices=(3, ), norm_cfg=dict(type='BN', requires_grad=True),
            init_cfg=None), part
    assert model.trans_net.hm_shape == (16, 16, 16)
    assert model.trans_net.first_conv_impl == 'factorised'


def test_shnet_config_uses_stock_mmpose_runtime_pieces():
    cfg = Config.fromfile(SHNET)
    assert cfg.default_scope == 'mmpose'
    assert 'interwild_mm.utils.safe_loading' in cfg.custom_imports.imports
    assert cfg.default_hooks.checkpoint == dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=3)
    assert cfg.default_hooks.visualization == dict(
        type='PoseVisualizationHook', enable=False)
    assert cfg.visualizer.type == 'PoseLocalVisualizer'
    assert cfg.randomness == dict(seed=None)
    val = cfg.val_dataloader.dataset
    assert val.ann_file == 'annotations/coco_wholebody_val_v1.0.json'
    assert val.test_mode is True and val.pipeline == cfg.val_pipeline
    assert val.metainfo == cfg.train_dataloader.dataset.metainfo
