package dev.mobius.cli;

/** {@code bin/mobius}. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(Cli.run(args, System.getenv(), System.in, System.out, System.err));
    }
}
