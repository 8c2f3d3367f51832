// Validates an RFC 4998 evidence record with BouncyCastle's org.bouncycastle.tsp.ers, independently of
// JRChain's own verifier. Run as a single-file program (java ErsChecker.java), with bcprov, bcutil and bcpkix
// on the class path (Debian: libbcpkix-java).
//
//   java -cp ... ErsChecker.java <record.ers> <document> <root.pem> <verification time, ISO 8601>
//
// Checks: the record parses and its timestamp renewals chain (ERSEvidenceRecord's constructor); the document
// is protected by the first archive timestamp at the given time (validatePresent); each token of the chain
// is signed by its TSA certificate, valid at its genTime (TimeStampToken.validate), which the root issued;
// the newest token's certificate is still valid at the verification time.
// Prints "OK <genTime of the first token>" and exits 0, or "FAIL <reason>" and exits 1.
import java.io.FileInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Collection;
import java.util.Date;
import org.bouncycastle.asn1.tsp.ArchiveTimeStamp;
import org.bouncycastle.asn1.tsp.ArchiveTimeStampChain;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.tsp.TimeStampToken;
import org.bouncycastle.tsp.ers.ERSByteData;
import org.bouncycastle.tsp.ers.ERSEvidenceRecord;

public class ErsChecker {
  public static void main(String[] args) {
    try {
      byte[] record = Files.readAllBytes(Path.of(args[0]));
      byte[] document = Files.readAllBytes(Path.of(args[1]));
      X509Certificate root;
      try (FileInputStream in = new FileInputStream(args[2])) {
        root = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      }
      Date at = Date.from(Instant.parse(args[3]));
      ERSEvidenceRecord er = new ERSEvidenceRecord(record, new JcaDigestCalculatorProviderBuilder().build());
      er.validatePresent(new ERSByteData(document), at);
      X509CertificateHolder rootHolder = new JcaX509CertificateHolder(root);
      Date firstGenTime = null;
      for (ArchiveTimeStampChain chain : er.toASN1Structure().getArchiveTimeStampSequence().getArchiveTimeStampChains()) {
       for (ArchiveTimeStamp ats : chain.getArchiveTimestamps()) {
        TimeStampToken token = new TimeStampToken(ats.getTimeStamp());
        X509CertificateHolder signer = signerOf(token);
        if (!signer.isSignatureValid(new JcaContentVerifierProviderBuilder().build(rootHolder))) {
          throw new Exception("the TSA certificate " + signer.getSubject() + " is not issued by the root");
        }
        token.validate(new JcaSimpleSignerInfoVerifierBuilder().build(signer));
        if (firstGenTime == null) firstGenTime = token.getTimeStampInfo().getGenTime();
       }
      }
      // The newest token covers every earlier one of its chain.
      er.validate(new JcaSimpleSignerInfoVerifierBuilder().build(er.getSigningCertificate()));
      X509CertificateHolder newest = er.getSigningCertificate();
      if (newest == null || !newest.isValidOn(at)) {
        throw new Exception("the newest token's certificate is not valid at " + at.toInstant());
      }
      System.out.println("OK " + firstGenTime.toInstant());
    } catch (Exception e) {
      System.out.println("FAIL " + e.getClass().getSimpleName() + ": " + e.getMessage());
      System.exit(1);
    }
  }

  static X509CertificateHolder signerOf(TimeStampToken token) throws Exception {
    @SuppressWarnings("unchecked")
    Collection<X509CertificateHolder> found = token.getCertificates().getMatches(token.getSID());
    if (found.isEmpty()) throw new Exception("the token carries no signer certificate");
    return found.iterator().next();
  }
}
