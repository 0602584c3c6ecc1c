# configs/interwild_ih26m_coco.py evaluated on the InterHand2.6M test split
# (human-annotated subset, official protocol: MPJPE / MPVPE / MRRPE):
#   python tools/test.py configs/interwild_ih26m_coco_test_ih26m.py CKPT \
#       --cfg-options ih26m_root=/data/InterHand26M/ mano_dir=/data/mano
_base_ = ['./interwild_ih26m_coco.py']

# the evaluation loader of the data config, on InterHand2.6M
test_dataloader = dict(dataset=dict(_base_.ih26m_test, _delete_=True))
test_evaluator = dict(
    type='InterWildMetric', protocol='interhand26m', mano_dir=_base_.mano_dir)
