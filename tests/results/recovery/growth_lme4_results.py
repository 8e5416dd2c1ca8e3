"""lme4 reference numbers for the growth model (TrajectoryModel(engine="fast")).

Source: tests/results/recovery/growth_lme4.R on tests/fixtures/recovery/growth.csv, lme4 1.1.31,
R 4.2.2, optimizer bobyqa; raw output in growth_lme4.out. Calls (REML unless stated):

    citizen:        lmer(y ~ years + x + (1 + years | citizen))
    municipality:   lmer(y ~ years + x + (1 + years | citizen) + (1 + years | municipality))
    intercept_only: lmer(y ~ years + x + (1 + years | citizen) + (1 | municipality))
    ml:             the municipality model, REML = FALSE

beta/se: (Intercept), years, x; citizen/municipality: the 2 x 2 covariance matrix column by column
(intercept variance, covariance, covariance, slope variance); criterion: REMLcrit (ML: deviance).
"""

RESULTS = {
    "citizen": {
        "beta": [1.466783472648, 0.2991627971532, -0.5362508174191],
        "se": [0.1270416600059, 0.03374332452847, 0.1726268838422],
        "citizen": [1.228934252105, 0.1852240497029, 0.1852240497029, 0.1620242929081],
        "residual": 0.5473424078077,
        "criterion": 2985.78433202487,
    },
    "municipality": {
        "beta": [1.467829706036, 0.304057539645, -0.5399671495103],
        "se": [0.2051281791751, 0.05839261579935, 0.1574174028769],
        "citizen": [0.9096756898871, 0.1400892619437, 0.1400892619437, 0.1380619452421],
        "residual": 0.5472342557538,
        "criterion": 2937.32467012844,
        "municipality": [0.3387338963521, 0.04619761922796, 0.04619761922796, 0.02829959997067],
    },
    "intercept_only": {
        "beta": [1.473234531242, 0.3029431094363, -0.540744437713],
        "se": [0.2180092166546, 0.03380624391592, 0.1592821385331],
        "citizen": [0.9402203505474, 0.1301485383467, 0.1301485383467, 0.1629706266737],
        "residual": 0.5457303311835,
        "criterion": 2952.37231069723,
        "municipality": 0.3996201180724,
    },
    "ml": {
        "beta": [1.467804243353, 0.3039933398267, -0.5396574193725],
        "se": [0.1977770744767, 0.05591445812419, 0.157187512389],
        "citizen": [0.9067046381397, 0.1397270702198, 0.1397270702198, 0.1379007361773],
        "residual": 0.5469544388589,
        "criterion": 2929.93765155094,
        "municipality": [0.3037882961383, 0.04308807503938, 0.04308807503938, 0.02492723603258],
    },
}
