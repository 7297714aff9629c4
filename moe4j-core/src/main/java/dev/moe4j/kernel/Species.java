package dev.moe4j.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector shapes the kernels compute with: {@link #F} floats of the machine's preferred width ({@link #L}
 * lanes), and 16-, 8- and 32-bit lanes of the same count, so a load of narrow values converts lane for lane
 * into {@link #F}. Constants, so that C2 intrinsifies the conversions.
 */
final class Species {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    /** L shorts, or null where no vector shape has that size. */
    static final VectorSpecies<Short> S = speciesOf(short.class, L * 16);
    /** L bytes, or null where no vector shape has that size. */
    static final VectorSpecies<Byte> B = speciesOf(byte.class, L * 8);
    static final VectorSpecies<Integer> I = F.withLanes(int.class);

    private Species() {}

    private static <E> VectorSpecies<E> speciesOf(Class<E> type, int bits) {
        try {
            return VectorSpecies.of(type, VectorShape.forBitSize(bits));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
