"""The curve sampler's callback reads the kernel's arguments back from nutpie's table
exactly as the packer wrote them."""

import numpy as np

from inference.curve.layout import CurveData, pack
from inference.curve.sampler import unpack
from inference.curve.spec import SaturationPriors
from inference.nutpie_adapter import pack_table
from tests.inference.simulate_curves import CurveTruth, simulate_ladder


def test_the_callback_reads_back_what_the_packer_wrote():
    truth = CurveTruth(elasticity=0.5, average_roas=4.0, level=20.0)
    packed = pack(simulate_ladder(np.random.default_rng(1), truth)[0], SaturationPriors())
    table, arrays = pack_table(packed)
    back = unpack(table)
    assert type(back) is CurveData
    for name, wrote, read in zip(CurveData._fields, packed, back, strict=True):
        assert read.dtype == wrote.dtype, name
        np.testing.assert_array_equal(read, wrote, err_msg=name)
    assert arrays
